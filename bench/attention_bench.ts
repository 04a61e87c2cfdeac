/**
 * Attention and softmax throughput: the fused forward + backward of one BERT-base-sized layer's attention
 * (GFLOP/s counting the six matrix products, with its ratio to the matmul's GFLOP/s timed between its
 * samples) and the row softmax (GB/s of one read + one write, with its ratio to the copy bandwidth). The
 * backward is a training step's: dQ, dK and dV; `_with_dA` also writes dA, the gradient with respect to the
 * attention probabilities that only AD-DROP's attribution pass asks for. Where adapters have timestamp queries,
 * `_in_sequence` / `_alone` break the forward + backward down by dispatch.
 *
 * @module
 */
import type { Gpu } from "../src/gpu/device.ts";
import type { Dispatch } from "../src/gpu/encoder.ts";
import type { Tensor } from "../src/gpu/tensor.ts";
import { summarize } from "../src/gpu/timing.ts";
import { attentionBackward, type AttentionDims, attentionForward } from "../src/kernels/attention.ts";
import { softmaxForward } from "../src/kernels/softmax.ts";
import {
  bandwidthVsCopy,
  type BenchCase,
  type BenchResult,
  benchTensor,
  millis,
  rate,
  timeDispatches,
  timeRepeated,
} from "./_util.ts";
import { matmulYardstick } from "./matmul_bench.ts";

/** Attention samples interleaved with matmul samples for the ratio (see attentionCase). */
const PAIRS = 15;
/** Forward + backward runs per timed submit (see timeRepeated): about 0.4 s here, as the matmul yardstick's submit. */
const REPS = 8;

/** One attention forward + backward, prepared, with the FLOPs it counts and a timer of REPS runs per submit. */
interface Prepared {
  flops: number;
  note: string;
  /** The forward's dispatches, then the backward's. */
  dispatches: Dispatch[];
  /** Milliseconds per forward + backward of each sample. */
  time(o: { warmup: number; repeats: number }): Promise<number[]>;
  destroy(): void;
}

async function prepare(gpu: Gpu, d: AttentionDims, withDA = false): Promise<Prepared> {
  const { B, T, C, NH } = d;
  const hs = C / NH;
  const all: Tensor[] = [];
  const mk = async (shape: number[], dtype: "f32" | "u32" = "f32") => {
    const t = await benchTensor(gpu, shape, dtype);
    all.push(t);
    return t;
  };
  const [qkv, dqkv] = [await mk([B, T, 3 * C]), await mk([B, T, 3 * C])];
  const [out, dout] = [await mk([B, T, C]), await mk([B, T, C])];
  const [probs, fscratch] = [await mk([B, NH, T, T]), await mk([B, NH, T, T])];
  const dprobs = withDA ? await mk([B, NH, T, T]) : null;
  const scratch = await mk([2, B, NH, T, T]);
  const keyMask = await mk([B, T]);
  const rng = await mk([2], "u32");
  const common = { qkv, probs, keyMask, addMask: null, alpha: null, rng };
  const ds = [
    ...await attentionForward(gpu, { ...common, out, scratch: fscratch }, d),
    ...await attentionBackward(gpu, { ...common, dqkv, dprobs, dout, scratch }, d),
  ];
  return {
    dispatches: ds,
    flops: 12 * B * NH * T * T * hs,
    note: `fwd+bwd${withDA ? " writing dA" : ""}, 12*B*NH*T*T*hs FLOPs, pDrop ${d.pDrop}${
      d.scalar ? ", scalar" : d.block ? `, ${d.block === 32 ? "32-row" : "8 x 8"} block` : ""
    }${d.textures === false ? ", storage operands" : ""}; ${REPS} per submit`,
    time: async (o) => (await timeRepeated(gpu, ds, REPS, o)).samples.map((x) => x / REPS),
    destroy() {
      ds.forEach((x) => x.destroy());
      all.forEach((x) => x.destroy());
    },
  };
}

/** A case timed on its own. */
async function attentionCase(gpu: Gpu, name: string, d: AttentionDims, withDA = false): Promise<BenchResult> {
  const p = await prepare(gpu, d, withDA);
  try {
    return rate(
      name,
      "GFLOP/s",
      p.flops / 1e9,
      summarize(await p.time({ warmup: 1, repeats: 5 }), "wall-clock"),
      p.note,
    );
  } finally {
    p.destroy();
  }
}

/** The dispatches of one forward + backward at one chunk (S, the row pass, P V; dP', the row pass, dV, dQ, dK). */
const PARTS = ["S", "rows_forward", "PV", "dP", "rows_backward", "dV", "dQ", "dK"];
/** Runs of the forward + backward per submit for {@linkcode attentionDispatches}. */
const DISPATCH_REPS = 12;

/**
 * Where a forward + backward's time goes: each dispatch's compute pass timed by `timestamp-query`, in sequence
 * (`_in_sequence`: the sum of the passes and of the time between them, i.e. the texture copies, per run) and
 * each dispatch alone (`_alone`: repeated 8 x DISPATCH_REPS times per submit with its copies, its inputs then in
 * cache); per dispatch as `_in_sequence_<part>` / `_alone_<part>`. None without timestamp queries.
 */
async function attentionDispatches(gpu: Gpu, name: string, d: AttentionDims): Promise<BenchResult[]> {
  const p = await prepare(gpu, d);
  try {
    const ds = p.dispatches;
    const parts = ds.length === PARTS.length ? PARTS : ds.map((_, i) => `dispatch${i}`);
    const seq = await timeDispatches(gpu, ds, DISPATCH_REPS, 5);
    if (!seq) return [];
    const alone: number[] = [];
    for (const x of ds) {
      const t = (await timeDispatches(gpu, [x], 8 * DISPATCH_REPS, 3))!;
      alone.push(t.run[0] + t.between[0]);
    }
    const list = (v: number[]) => v.map((x, i) => `${parts[i]} ${x.toFixed(2)}`).join(", ");
    const betweenSum = seq.between.reduce((a, b) => a + b, 0);
    const total = summarize(seq.totals, "timestamp-query");
    const aloneSum = alone.reduce((a, b) => a + b, 0);
    const ms = (n: string, v: number, note: string): BenchResult => ({
      name: n,
      unit: "ms",
      median: v,
      min: v,
      max: v,
      note: `timestamp-query ${note}`,
    });
    return [
      millis(
        `${name}_in_sequence`,
        total,
        `one compute pass per dispatch, ${DISPATCH_REPS} forward + backward runs per submit, 5 submits; per ` +
          `dispatch (median, ms): ${list(seq.run)}; between passes (the texture copies) ${
            betweenSum.toFixed(2)
          }; wall clock ${seq.wall.toFixed(1)} ms per run`,
      ),
      ms(
        `${name}_alone`,
        aloneSum,
        `each dispatch repeated ${
          8 * DISPATCH_REPS
        } times per submit with its copies (inputs in cache), summed; ` +
          `per dispatch (ms): ${list(alone)}`,
      ),
      ...seq.run.map((v, i) => ms(`${name}_in_sequence_${parts[i]}`, v, "its pass, in sequence")),
      ms(`${name}_in_sequence_between`, betweenSum, "between the passes (the texture copies), in sequence"),
      ...alone.map((v, i) => ms(`${name}_alone_${parts[i]}`, v, "its pass and copies, repeated alone")),
    ];
  } finally {
    p.destroy();
  }
}

/**
 * The adapter's default attention with its targets' yardstick: each sample is timed between two
 * `matmul_1024x768x768` samples (the target is a ratio to the matmul's GFLOP/s, taken against the mean of the
 * two, so that both see the same machine load; the ratio is the median over the rounds, after one warm-up
 * round) and followed by a sample of `other` (the same attention with another kernel choice), so that the two
 * compare on this drifting host too.
 */
async function attentionVsMatmul(
  gpu: Gpu,
  name: string,
  d: AttentionDims,
  other: { name: string; d: AttentionDims },
): Promise<BenchResult[]> {
  const [p, q] = [await prepare(gpu, d), await prepare(gpu, other.d)];
  const matmul = await matmulYardstick(gpu);
  const ms: number[] = [], ratios: number[] = [], matmulRates: number[] = [], otherMs: number[] = [];
  const timeRatios: number[] = [];
  try {
    for (let i = 0; i <= PAIRS; i++) {
      const before = await matmul.sample();
      const [t] = await p.time({ warmup: 0, repeats: 1 });
      const m = (before + await matmul.sample()) / 2;
      const [u] = await q.time({ warmup: 0, repeats: 1 });
      if (i === 0) continue;
      ms.push(t);
      matmulRates.push(m);
      ratios.push(p.flops / 1e9 / (t / 1000) / m);
      otherMs.push(u);
      timeRatios.push(t / u);
    }
  } finally {
    matmul.destroy();
    p.destroy();
    q.destroy();
  }
  const r = summarize(ratios, "wall-clock");
  const mm = summarize(matmulRates, "wall-clock").median;
  const tr = summarize(timeRatios, "wall-clock").median;
  return [
    rate(
      name,
      "GFLOP/s",
      p.flops / 1e9,
      summarize(ms, "wall-clock"),
      p.note + `; ${r.median.toFixed(3)}x matmul_1024x768x768 (${mm.toFixed(1)} GFLOP/s, interleaved)`,
    ),
    {
      name: `${name}_vs_matmul`,
      unit: "x",
      median: r.median,
      min: r.min,
      max: r.max,
      note:
        `GFLOP/s / the mean GFLOP/s of matmul_1024x768x768 timed right before and right after it (median over ${PAIRS} rounds)`,
    },
    rate(
      other.name,
      "GFLOP/s",
      q.flops / 1e9,
      summarize(otherMs, "wall-clock"),
      q.note + `; interleaved with ${name}, whose time is ${tr.toFixed(3)}x this one's (median over pairs)`,
    ),
  ];
}

export const benchmarks: BenchCase[] = [
  {
    name: "attention_fwd_bwd_b8_h12_t128_d64",
    async run(gpu) {
      const d = { B: 8, T: 128, C: 768, NH: 12, pDrop: 0.1, layer: 0 };
      const name = "attention_fwd_bwd_b8_h12_t128_d64";
      const storage = { name: `${name}_storage`, d: { ...d, textures: false } };
      return [
        ...await attentionVsMatmul(gpu, name, d, storage),
        await attentionCase(gpu, `${name}_with_dA`, d, true),
        await attentionCase(gpu, `${name}_block8`, { ...d, block: 8 }),
        await attentionCase(gpu, `${name}_scalar`, { ...d, scalar: true }),
        ...await attentionDispatches(gpu, name, d),
      ];
    },
  },
  {
    name: "softmax_forward_12288x128",
    async run(gpu) {
      const rows = 8 * 12 * 128, cols = 128;
      const inp = await benchTensor(gpu, [rows, cols]);
      const out = await benchTensor(gpu, [rows, cols]);
      const d = await softmaxForward(gpu, { out, inp }, { rows, cols });
      try {
        const bytes = 2 * rows * cols * 4;
        return [await bandwidthVsCopy(gpu, "softmax_forward_12288x128", bytes, [d], "read + write once")];
      } finally {
        d.destroy();
        inp.destroy();
        out.destroy();
      }
    },
  },
];
