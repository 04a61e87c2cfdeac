/**
 * GPU timing for benchmarks: `timestamp-query` around the passes of a batch where the adapter has it, the wall
 * clock around a completed submit otherwise.
 *
 * @module
 */
import type { Gpu } from "./device.ts";
import { CommandBatch } from "./encoder.ts";
import { readTimestamps } from "./readback.ts";

/** Summary of repeated measurements, in milliseconds. */
export interface Timing {
  median: number;
  min: number;
  max: number;
  samples: number[];
  method: "timestamp-query" | "wall-clock";
}

/** Options of {@linkcode timeGpu}. */
export interface TimeOptions {
  warmup?: number;
  repeats?: number;
  /** Force the wall clock even when `timestamp-query` exists (whole-step timings that include CPU work). */
  wallClock?: boolean;
  /** Maximum compute passes a timed batch may open (two timestamps each). */
  maxPasses?: number;
}

/** Median, min and max of samples. */
export function summarize(samples: number[], method: Timing["method"]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], samples, method };
}

/**
 * Times `record`, which encodes the work into the given batch, `repeats` times after `warmup` runs.
 */
export async function timeGpu(
  gpu: Gpu,
  record: (batch: CommandBatch) => void | Promise<void>,
  options: TimeOptions = {},
): Promise<Timing> {
  const { warmup = 2, repeats = 10, maxPasses = 256 } = options;
  const useTimestamps = gpu.hasTimestamps && !options.wallClock;
  const querySet = useTimestamps
    ? gpu.device.createQuerySet({ type: "timestamp", count: 2 * maxPasses })
    : null;
  const samples: number[] = [];
  try {
    for (let i = 0; i < warmup + repeats; i++) {
      const batch = new CommandBatch(gpu, "timed", querySet);
      const t0 = performance.now();
      await record(batch);
      batch.submit();
      await gpu.sync("timed batch");
      const wall = performance.now() - t0;
      if (i < warmup) continue;
      if (querySet && batch.passes > 0) {
        const ts = await readTimestamps(gpu, querySet, 2 * batch.passes);
        samples.push(Number(ts[2 * batch.passes - 1] - ts[0]) / 1e6);
      } else {
        samples.push(wall);
      }
    }
  } finally {
    querySet?.destroy();
  }
  return summarize(samples, useTimestamps ? "timestamp-query" : "wall-clock");
}

/** Times an async function by the wall clock (it must wait for its own GPU work). */
export async function timeWall(fn: () => Promise<void>, options: TimeOptions = {}): Promise<Timing> {
  const { warmup = 1, repeats = 5 } = options;
  const samples: number[] = [];
  for (let i = 0; i < warmup + repeats; i++) {
    const t0 = performance.now();
    await fn();
    if (i >= warmup) samples.push(performance.now() - t0);
  }
  return summarize(samples, "wall-clock");
}
