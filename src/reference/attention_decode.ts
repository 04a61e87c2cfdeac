/**
 * CPU reference of `shaders/attention_decode.wgsl`: attention of one query per (example, head) over Tk cached
 * keys and values (see {@link AttentionDecodeDims} for the layouts).
 *
 * @module
 */

/** Sizes and layouts of a single-query attention (element strides and offsets of the flat tensors). */
export interface AttentionDecodeDims {
  B: number;
  NH: number;
  HS: number;
  Tk: number;
  qStride: number;
  qOffset: number;
  kvBatch: number;
  kvStride: number;
  kOffset: number;
  vOffset: number;
  maskStride: number;
  /** Score scale, 1 / sqrt(HS) for Marian. */
  scale: number;
}

/** out (B, NH * HS): softmax_j(q . k_j * scale + mask_j) weighted values; masked keys (<= -1e30) weigh 0. */
export function attentionDecode(
  q: ArrayLike<number>,
  kv: ArrayLike<number>,
  mask: ArrayLike<number>,
  d: AttentionDecodeDims,
): Float32Array {
  const out = new Float32Array(d.B * d.NH * d.HS);
  for (let b = 0; b < d.B; b++) {
    for (let h = 0; h < d.NH; h++) {
      const scores: number[] = [];
      for (let j = 0; j < d.Tk; j++) {
        const mj = mask[b * d.maskStride + j];
        if (mj <= -1e30) {
          scores.push(-Infinity);
          continue;
        }
        let s = 0;
        for (let e = 0; e < d.HS; e++) {
          s += q[b * d.qStride + d.qOffset + h * d.HS + e] *
            kv[b * d.kvBatch + j * d.kvStride + d.kOffset + h * d.HS + e];
        }
        scores.push(s * d.scale + mj);
      }
      const max = Math.max(...scores);
      if (max === -Infinity) continue;
      const w = scores.map((s) => Math.exp(s - max));
      const sum = w.reduce((a, x) => a + x, 0);
      for (let e = 0; e < d.HS; e++) {
        let acc = 0;
        for (let j = 0; j < d.Tk; j++) {
          acc += w[j] * kv[b * d.kvBatch + j * d.kvStride + d.vOffset + h * d.HS + e];
        }
        out[b * d.NH * d.HS + h * d.HS + e] = acc / sum;
      }
    }
  }
  return out;
}
