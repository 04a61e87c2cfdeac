/**
 * CPU reference of matmul with bias (nn.Linear convention): the specification `src/kernels/matmul.ts` is
 * tested against. Accumulates in f64 so the reference is more exact than any kernel.
 *
 * @module
 */
import type { MatmulDims } from "../kernels/matmul.ts";

/** `out (M, N) = inp (M, K) @ weight (N, K)^T + bias (N)`. */
export function matmulForward(
  inp: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  { M, K, N }: MatmulDims,
): Float32Array {
  const out = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) s += inp[m * K + k] * weight[n * K + k];
      out[m * N + n] = s;
    }
  }
  return out;
}
