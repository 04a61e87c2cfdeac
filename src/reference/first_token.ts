/**
 * CPU reference of the first-token gather and its backward.
 *
 * @module
 */
import type { FirstTokenDims } from "../kernels/first_token.ts";

/** `out[b] = inp[b, 0]`. */
export function firstTokenForward(inp: Float32Array, { B, T, C }: FirstTokenDims): Float32Array {
  const out = new Float32Array(B * C);
  for (let b = 0; b < B; b++) out.set(inp.subarray(b * T * C, b * T * C + C), b * C);
  return out;
}

/** `dinp[b, 0] = dout[b]`, zeros elsewhere. */
export function firstTokenBackward(dout: Float32Array, { B, T, C }: FirstTokenDims): Float32Array {
  const dinp = new Float32Array(B * T * C);
  for (let b = 0; b < B; b++) dinp.set(dout.subarray(b * C, b * C + C), b * T * C);
  return dinp;
}
