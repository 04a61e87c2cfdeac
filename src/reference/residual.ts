/**
 * CPU reference of the residual connection: the specification `src/kernels/residual.ts` is tested against.
 *
 * @module
 */

/** `out = inp1 + inp2`. */
export function residualForward(inp1: Float32Array, inp2: Float32Array): Float32Array {
  const out = new Float32Array(inp1.length);
  for (let i = 0; i < out.length; i++) out[i] = inp1[i] + inp2[i];
  return out;
}

/** `dinp1 += dout; dinp2 += dout` (in place). */
export function residualBackward(dinp1: Float32Array, dinp2: Float32Array, dout: Float32Array): void {
  for (let i = 0; i < dout.length; i++) {
    dinp1[i] += dout[i];
    dinp2[i] += dout[i];
  }
}
