/**
 * Correlations for regression (STS-B), matching SciPy: Pearson's r, and Spearman's rho as Pearson's r of the
 * ranks with ties given their average rank. Both are NaN when an input is constant (SciPy returns nan).
 *
 * @module
 */
import { assertSameLength } from "./classification.ts";

/**
 * Pearson's correlation coefficient, accumulated in f64 around the means.
 *
 * @example
 * ```ts
 * import { pearson } from "./correlation.ts";
 * console.log(pearson([1, 2, 3], [2, 4, 7])); // 0.9933992677987828
 * ```
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assertSameLength("pearson", x, y);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Rounding can push |r| a hair past 1.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks, tied values sharing the average of their ranks (SciPy's `rankdata(method="average")`). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(x.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && x[order[end]] === x[order[start]]) end++;
    // Positions start..end-1 hold ranks start+1..end; their mean is (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson's r of the average ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assertSameLength("spearman", x, y);
  return pearson(averageRanks(x), averageRanks(y));
}
