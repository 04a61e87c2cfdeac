/**
 * CPU reference of the row softmax: the specification `src/kernels/softmax.ts` is tested against (f64).
 *
 * @module
 */
import type { SoftmaxDims } from "../kernels/softmax.ts";

/** out[r, :] = softmax(inp[r, :]) for each of `rows` rows of length `cols`. */
export function softmaxForward(inp: ArrayLike<number>, { rows, cols }: SoftmaxDims): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) mx = Math.max(mx, inp[r * cols + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(inp[r * cols + j] - mx);
    for (let j = 0; j < cols; j++) out[r * cols + j] = Math.exp(inp[r * cols + j] - mx) / sum;
  }
  return out;
}

/** dinp = out * (dout - sum(dout * out)) per row (written, not accumulated). */
export function softmaxBackward(
  dout: ArrayLike<number>,
  out: ArrayLike<number>,
  { rows, cols }: SoftmaxDims,
): Float64Array {
  const dinp = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dout[r * cols + j] * out[r * cols + j];
    for (let j = 0; j < cols; j++) dinp[r * cols + j] = out[r * cols + j] * (dout[r * cols + j] - dot);
  }
  return dinp;
}
