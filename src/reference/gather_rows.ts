/**
 * CPU reference of the row gather and its backward (scatter into zeros).
 *
 * @module
 */
import { type GatherRowsDims, NOT_GATHERED } from "../kernels/gather_rows.ts";

/** `out[p] = inp[rows[p]]`. */
export function gatherRowsForward(
  inp: Float32Array,
  rows: ArrayLike<number>,
  { P, C }: GatherRowsDims,
): Float32Array {
  const out = new Float32Array(P * C);
  for (let p = 0; p < P; p++) out.set(inp.subarray(rows[p] * C, rows[p] * C + C), p * C);
  return out;
}

/** `dinp[n] = dout[slot[n]]` for gathered rows, zeros elsewhere. */
export function gatherRowsBackward(
  dout: Float32Array,
  slot: ArrayLike<number>,
  { N, C }: GatherRowsDims,
): Float32Array {
  const dinp = new Float32Array(N * C);
  for (let n = 0; n < N; n++) {
    if (slot[n] !== NOT_GATHERED) dinp.set(dout.subarray(slot[n] * C, slot[n] * C + C), n * C);
  }
  return dinp;
}
