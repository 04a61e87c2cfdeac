/**
 * CPU reference of the matmul ops: the specification `src/kernels/matmul.ts` is tested against.
 * Accumulates in f64 so the reference is more exact than any kernel.
 *
 * @module
 */
import type { BatchedMatmulDims, MatmulDims } from "../kernels/matmul.ts";

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

/**
 * Gradients of {@linkcode matmulForward} for one `dout`, as fresh values (the kernels accumulate `dweight`
 * and `dbias` onto what is there): `dinp = dout @ weight`, `dweight = dout^T @ inp`, `dbias = sum_m dout`.
 */
export function matmulBackward(
  dout: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  { M, K, N }: MatmulDims,
): { dinp: Float32Array; dweight: Float32Array; dbias: Float32Array } {
  const dinp = new Float32Array(M * K);
  const dweight = new Float32Array(N * K);
  const dbias = new Float32Array(N);
  const row = new Float64Array(K);
  for (let m = 0; m < M; m++) {
    row.fill(0);
    for (let n = 0; n < N; n++) {
      const g = dout[m * N + n];
      for (let k = 0; k < K; k++) row[k] += g * weight[n * K + k];
    }
    dinp.set(row, m * K);
  }
  for (let n = 0; n < N; n++) {
    row.fill(0);
    let sb = 0;
    for (let m = 0; m < M; m++) {
      const g = dout[m * N + n];
      sb += g;
      for (let k = 0; k < K; k++) row[k] += g * inp[m * K + k];
    }
    dweight.set(row, n * K);
    dbias[n] = sb;
  }
  return { dinp, dweight, dbias };
}

/**
 * `out[z] (M, N) = alpha * op(a[z]) @ op(b[z])`, a stored (M, K) or (K, M) when `transA`, b stored (K, N) or
 * (N, K) when `transB`. (`accumulate` is the caller's: add the initial `out` to this result.)
 */
export function batchedMatmul(
  a: Float32Array,
  b: Float32Array,
  { batch, M, N, K, transA, transB, alpha = 1 }: BatchedMatmulDims,
): Float32Array {
  const out = new Float32Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const za = z * M * K;
    const zb = z * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const x = a[za + (transA ? k * M + m : m * K + k)];
          const y = b[zb + (transB ? n * K + k : k * N + n)];
          s += x * y;
        }
        out[z * M * N + m * N + n] = alpha * s;
      }
    }
  }
  return out;
}
