/**
 * `assertClose`: every element within `atol + rtol * |expected|`, with a failure message that shows the first
 * values and the largest difference.
 *
 * @module
 */
import { AssertionError } from "node:assert/strict";

export interface CloseOptions {
  atol?: number;
  rtol?: number;
  /** Name of the compared output, for the failure message. */
  name?: string;
}

/** Throws unless `|actual[i] - expected[i]| <= atol + rtol * |expected[i]|` for every i (NaN never passes). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5, name = "value" }: CloseOptions = {},
): void {
  if (actual.length !== expected.length) {
    throw new AssertionError({
      message: `${name}: length ${actual.length} != expected length ${expected.length}`,
    });
  }
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const tol = atol + rtol * Math.abs(e);
    const diff = Math.abs(a - e);
    if (!(diff <= tol)) {
      bad++;
      const excess = Number.isNaN(diff) ? Infinity : diff - tol;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad === 0) return;
  const first = (xs: ArrayLike<number>) =>
    Array.from({ length: Math.min(8, xs.length) }, (_, i) => xs[i].toPrecision(6));
  throw new AssertionError({
    message: `${name}: ${bad} of ${actual.length} elements differ (atol ${atol}, rtol ${rtol}).\n` +
      `  largest at [${worst}]: actual ${actual[worst]}, expected ${expected[worst]}, ` +
      `diff ${Math.abs(actual[worst] - expected[worst])}\n` +
      `  actual   first: [${first(actual).join(", ")}]\n` +
      `  expected first: [${first(expected).join(", ")}]`,
  });
}

/** Largest absolute difference (for reports). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
