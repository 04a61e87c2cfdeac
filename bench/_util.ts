/**
 * Shared types of the benchmark files: each `bench/*_bench.ts` exports `benchmarks`, a list of cases that
 * `deno task bench` runs on one device and reports as a table and as JSON.
 *
 * @module
 */
import type { Gpu } from "../src/gpu/device.ts";
import type { Timing } from "../src/gpu/timing.ts";

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
