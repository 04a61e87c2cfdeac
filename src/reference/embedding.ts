/**
 * CPU reference of the input embeddings `out[n] = wte[ids[n]] + wpe[posIds[n]] + wtt[typeIds[n]]` (word,
 * position and token-type tables of C features) and of their backward: the specification
 * `src/kernels/embedding.ts` is tested against. f64 throughout.
 *
 * @module
 */
import type { Vec } from "./layernorm.ts";

/** The three index arrays of N = B*T positions. */
export interface EmbeddingIds {
  ids: ArrayLike<number>;
  posIds: ArrayLike<number>;
  typeIds: ArrayLike<number>;
}

/** `out (N, C) = wte[ids] + (wpe[posIds] + wtt[typeIds])`. */
export function embeddingForward(
  t: EmbeddingIds & { wte: ArrayLike<number>; wpe: ArrayLike<number>; wtt: ArrayLike<number> },
  C: number,
): Float64Array {
  const N = t.ids.length;
  const out = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    const w = t.ids[n] * C, p = t.posIds[n] * C, y = t.typeIds[n] * C;
    for (let c = 0; c < C; c++) out[n * C + c] = t.wte[w + c] + (t.wpe[p + c] + t.wtt[y + c]);
  }
  return out;
}

/** `dwte[ids[n]] += dout[n]`, `dwpe[posIds[n]] += dout[n]`, `dwtt[typeIds[n]] += dout[n]`, in place. */
export function embeddingBackward(
  g: { dwte: Vec; dwpe: Vec; dwtt: Vec },
  dout: ArrayLike<number>,
  t: EmbeddingIds,
  C: number,
): void {
  const N = t.ids.length;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const v = dout[n * C + c];
      g.dwte[t.ids[n] * C + c] += v;
      g.dwpe[t.posIds[n] * C + c] += v;
      g.dwtt[t.typeIds[n] * C + c] += v;
    }
  }
}
