/**
 * CPU reference of AD-DROP's candidate selection by sorting: the specification `src/kernels/select.ts` is
 * tested against.
 *
 * @module
 */

/** Ascending rank of the threshold, or -1 for no candidates, with the kernel's f32 arithmetic. */
export function selectIndex(n: number, p: number, mode: "high" | "low"): number {
  const f = Math.fround;
  if (mode === "high") {
    const k = Math.floor(f(f(1 - f(p)) * n));
    return k < n ? k : -1;
  }
  const c = Math.min(Math.ceil(f(f(p) * n)), n);
  return c - 1;
}

/**
 * Thresholds of the rows of `scores` (R, L): the value at {@linkcode selectIndex} of the row's first
 * `n = min(lengths[floor(r / rowsPerExample)], L)` entries sorted ascending; +inf (high) or -inf (low) when
 * there are no candidates.
 */
export function selectRank(
  scores: ArrayLike<number>,
  lengths: ArrayLike<number>,
  o: { R: number; L: number; rowsPerExample: number; p: number; mode: "high" | "low" },
): Float32Array {
  const thr = new Float32Array(o.R);
  for (let r = 0; r < o.R; r++) {
    const n = Math.min(lengths[Math.floor(r / o.rowsPerExample)], o.L);
    const k = selectIndex(n, o.p, o.mode);
    if (k < 0) {
      thr[r] = o.mode === "high" ? Infinity : -Infinity;
      continue;
    }
    const row = Float32Array.from({ length: n }, (_, j) => scores[r * o.L + j]).sort();
    thr[r] = row[k];
  }
  return thr;
}
