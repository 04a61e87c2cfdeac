/**
 * Shared types of the benchmark files: each `bench/*_bench.ts` exports `benchmarks`, a list of cases that
 * `deno task bench` runs on one device and reports as a table and as JSON.
 *
 * @module
 */
import type { Gpu } from "../src/gpu/device.ts";
import { CommandBatch, type Dispatch } from "../src/gpu/encoder.ts";
import { readTimestamps } from "../src/gpu/readback.ts";
import { createTensor, type DType, type Tensor, type TensorOptions } from "../src/gpu/tensor.ts";
import { summarize, timeGpu, type Timing } from "../src/gpu/timing.ts";
import { copyKernel } from "../src/kernels/copy.ts";

/** One figure of a benchmark: its unit and how it follows from a time in milliseconds. */
export interface BenchResult {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  /** Free text: the timing method, the shape, what the number is relative to. */
  note?: string;
}

/**
 * A benchmark's tensor: `options.data` if given, else filled with values in [0.25, 1.25) (ones for integer
 * types). Never left as allocated: on software adapters a buffer that was never written may read from the
 * operating system's shared zero page, which flatters every kernel reading it (the storage-operand attention
 * ran 10-13% faster on never-written inputs than on written ones in a throwaway probe).
 */
export function benchTensor(
  gpu: Gpu,
  shape: readonly number[],
  dtype: DType = "f32",
  options: TensorOptions = {},
): Promise<Tensor> {
  if (options.data) return createTensor(gpu, shape, dtype, options);
  const n = shape.reduce((a, b) => a * b, 1);
  let x = 12345;
  const data = dtype === "f32"
    ? Float32Array.from({ length: n }, () => 0.25 + (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32)
    : new Array<number>(n).fill(1);
  return createTensor(gpu, shape, dtype, { ...options, data });
}

/**
 * Times `ds` by the wall clock over `reps` runs per submit (the sample is the whole submit): lavapipe's
 * timestamp queries misread passes around texture writes and copies (the software matmul and attention copy
 * their operands into textures), and `reps` spreads the ~11 ms fixed cost of a submit.
 */
export function timeRepeated(
  gpu: Gpu,
  ds: Dispatch[],
  reps: number,
  o: { warmup: number; repeats: number },
): Promise<Timing> {
  return timeGpu(gpu, (b) => {
    for (let r = 0; r < reps; r++) b.run(...ds);
  }, { ...o, wallClock: true });
}

/** A benchmark case: runs on the given device and returns one or more figures. */
export interface BenchCase {
  name: string;
  run(gpu: Gpu): Promise<BenchResult[]>;
}

/** Converts a timing to a rate (higher is better): `work / time`; min and max swap. */
export function rate(name: string, unit: string, work: number, t: Timing, note = ""): BenchResult {
  const per = (ms: number) => work / (ms / 1000);
  return {
    name,
    unit,
    median: per(t.median),
    min: per(t.max),
    max: per(t.min),
    note: `${t.method} ${note}`.trim(),
  };
}

/** A timing as milliseconds. */
export function millis(name: string, t: Timing, note = ""): BenchResult {
  return { name, unit: "ms", median: t.median, min: t.min, max: t.max, note: `${t.method} ${note}`.trim() };
}

/** Wall-clock times of adjacent pairs from {@linkcode timePairs}, warm-up pairs dropped. */
export interface Pairs {
  /** Milliseconds of each pair's first call. */
  first: number[];
  /** Milliseconds of each pair's second call. */
  second: number[];
}

/**
 * Runs `first` then `second`, `runs.warmup + runs.repeats` times, timing each call by the wall clock: cases that
 * compare two steps time them in adjacent pairs, so that a ratio over pairs does not drift with the host's speed.
 */
export async function timePairs(
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
  runs: { warmup: number; repeats: number },
): Promise<Pairs> {
  const out: Pairs = { first: [], second: [] };
  for (let k = 0; k < runs.warmup + runs.repeats; k++) {
    const t0 = performance.now();
    await first();
    const t1 = performance.now();
    await second();
    const t2 = performance.now();
    if (k < runs.warmup) continue;
    out.first.push(t1 - t0);
    out.second.push(t2 - t1);
  }
  return out;
}

/** The figure `name`: the median over pairs of `num[k] / den[k]`, with its extremes. */
export function pairRatio(
  name: string,
  unit: string,
  num: number[],
  den: number[],
  note: string,
): BenchResult {
  const r = summarize(num.map((x, k) => x / den[k]), "wall-clock");
  return {
    name,
    unit,
    median: r.median,
    min: r.min,
    max: r.max,
    note: `${note} (median over ${num.length} pairs)`,
  };
}

/**
 * Bytes a timed batch of {@linkcode bandwidthVsCopy} moves at least: as many as the copy's (64 MiB read + 64 MiB
 * written), so every case runs about as long as the copy it is compared with. A batch of a few milliseconds is
 * at the mercy of the scheduler on a shared CPU (llvmpipe): one preempted worker thread doubles its time.
 */
export const BATCH_BYTES = 2 * 64 * 2 ** 20;

/**
 * Times `dispatches` (moving `bytes` per run) against the vec4 copy kernel: each sample is one batch of the copy
 * (64 MiB each way) followed by one batch of `ceil(BATCH_BYTES / bytes)` runs of the case, so both see the same
 * machine load; `repeats` samples after one warm-up pair. Returns GB/s of the case with its ratio to the copy's
 * GB/s (medians) in the note.
 */
export async function bandwidthVsCopy(
  gpu: Gpu,
  name: string,
  bytes: number,
  dispatches: Dispatch[],
  note: string,
  repeats = 15,
): Promise<BenchResult> {
  const n = 16 * 1024 * 1024;
  const inp = await benchTensor(gpu, [n]);
  const out = await benchTensor(gpu, [n]);
  const copy = await copyKernel(gpu, { out, inp });
  const runs = Math.max(1, Math.ceil(BATCH_BYTES / bytes));
  const list = Array.from({ length: runs }, () => dispatches).flat();
  const copyMs: number[] = [];
  const caseMs: number[] = [];
  let method: Timing["method"] = "wall-clock";
  try {
    for (let i = 0; i <= repeats; i++) {
      const c = await timeGpu(gpu, (b) => void b.run(copy), { warmup: 0, repeats: 1 });
      const k = await timeGpu(gpu, (b) => void b.run(...list), { warmup: 0, repeats: 1 });
      method = k.method;
      if (i === 0) continue; // warm-up: pipelines, caches, page faults
      copyMs.push(c.median);
      caseMs.push(k.median);
    }
  } finally {
    copy.destroy();
    inp.destroy();
    out.destroy();
  }
  const r = rate(name, "GB/s", (runs * bytes) / 1e9, summarize(caseMs, method), note);
  const copyGbps = (2 * n * 4) / 1e9 / (summarize(copyMs, method).median / 1000);
  r.note += `; ${runs} runs per batch; ${(r.median / copyGbps).toFixed(2)}x copy (${
    copyGbps.toPrecision(3)
  } GB/s, interleaved)`;
  return r;
}

/** Per-dispatch GPU times of a list of dispatches (see {@linkcode timeDispatches}), in milliseconds. */
export interface DispatchTimes {
  /** Per dispatch: the median time of its compute pass. */
  run: number[];
  /** Per dispatch: the median time from the end of the pass before it to its start (its copies, if any). */
  between: number[];
  /** Per submit: the sum of both over one run of the list (median over its runs). */
  totals: number[];
  /** Median wall clock per run of the list (the submit over its runs), to check the timestamps against. */
  wall: number;
}

/**
 * Times each dispatch of `ds` with `timestamp-query`, one compute pass per dispatch: `reps` runs of the list per
 * submit, `repeats` submits after one warm-up. Null where the adapter has no timestamp queries. (lavapipe reads
 * passes after a storage-texture write as near zero; `ds` must not write storage textures.)
 */
export async function timeDispatches(
  gpu: Gpu,
  ds: Dispatch[],
  reps: number,
  repeats: number,
): Promise<DispatchTimes | null> {
  if (!gpu.hasTimestamps) return null;
  const n = ds.length;
  const querySet = gpu.device.createQuerySet({ type: "timestamp", count: 2 * n * reps });
  const med = (v: number[]) => summarize(v, "timestamp-query").median;
  const run: number[][] = ds.map(() => []), between: number[][] = ds.map(() => []);
  const totals: number[] = [], walls: number[] = [];
  try {
    for (let i = 0; i <= repeats; i++) {
      const batch = new CommandBatch(gpu, "dispatch timing", querySet);
      for (let r = 0; r < reps; r++) for (const d of ds) batch.run(d).split();
      const t0 = performance.now();
      batch.submit();
      await gpu.sync("dispatch timing");
      const wall = (performance.now() - t0) / reps;
      const ts = await readTimestamps(gpu, querySet, 2 * n * reps);
      if (i === 0) continue; // warm-up
      const ms = (a: number, b: number) => Number(ts[b] - ts[a]) / 1e6;
      const perRun: number[] = [];
      for (let r = 0; r < reps; r++) {
        let sum = 0;
        for (let j = 0; j < n; j++) {
          const q = r * n + j;
          run[j].push(ms(2 * q, 2 * q + 1));
          sum += ms(2 * q, 2 * q + 1);
          if (q > 0) {
            between[j].push(ms(2 * q - 1, 2 * q));
            sum += ms(2 * q - 1, 2 * q);
          }
        }
        if (r > 0) perRun.push(sum); // the first run has no gap before its first pass
      }
      totals.push(med(perRun.length ? perRun : [0]));
      walls.push(wall);
    }
  } finally {
    querySet.destroy();
  }
  return {
    run: run.map(med),
    between: between.map((v) => (v.length ? med(v) : 0)),
    totals,
    wall: med(walls),
  };
}
