/**
 * Learning-rate schedules and batch order: what `get_linear_schedule_with_warmup` and a seeded per-epoch
 * shuffle give in Hugging Face's Trainer.
 *
 * @module
 */
import { pcgHash } from "../reference/random.ts";

/** Learning rate of optimizer step `step` (0-based) of `total`, with `warmup` warm-up steps. */
export function learningRate(
  kind: "linear" | "constant",
  base: number,
  step: number,
  total: number,
  warmup: number,
): number {
  if (step < warmup) return (base * step) / Math.max(1, warmup);
  if (kind === "constant") return base;
  // transformers' linear schedule: max(0, (total - step) / max(1, total - warmup)).
  return base * Math.max(0, (total - step) / Math.max(1, total - warmup));
}

/** Warm-up steps for a ratio of the total, as transformers' `math.ceil(total * ratio)`. */
export function warmupSteps(total: number, ratio: number): number {
  return Math.ceil(total * ratio);
}

/** Indices 0..n-1 in file order, or shuffled by a generator seeded with (seed, epoch) (Fisher-Yates). */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  let state = pcgHash((pcgHash(seed >>> 0) ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    state = pcgHash((state + 0x6d2b79f5) >>> 0);
    const j = Math.floor((state / 4294967296) * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Splits an order into batches of `size`; the last partial batch is kept. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  // A size below 1 (or NaN) would never advance: an endless loop that fills the heap.
  if (!(Number.isInteger(size) && size >= 1)) {
    throw new RangeError(`batch size must be an integer >= 1, got ${size}`);
  }
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Optimizer steps of a run: batches per epoch / accumulation (rounded up), times epochs, or maxSteps. */
export function totalSteps(
  examples: number,
  batchSize: number,
  accumulation: number,
  epochs: number,
  maxSteps: number,
): number {
  if (maxSteps > 0) return maxSteps;
  const perEpoch = Math.ceil(Math.ceil(examples / batchSize) / accumulation);
  return Math.ceil(perEpoch * epochs);
}
