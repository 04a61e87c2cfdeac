/**
 * CPU reference of the reductions (f64 accumulation): the specification `src/kernels/reduce.ts` is tested
 * against.
 *
 * @module
 */

/** Sum of all elements. */
export function reduceSum(inp: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < inp.length; i++) s += inp[i];
  return s;
}

/** Sum of each row of an (R, L) matrix. */
export function reduceRowSum(inp: ArrayLike<number>, R: number, L: number): Float64Array {
  const out = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let j = 0; j < L; j++) s += inp[r * L + j];
    out[r] = s;
  }
  return out;
}
