/**
 * CPU-side index helpers of the embedding kernels, run at tokenization where the ids are on the CPU: the
 * position ids (BERT: 0..T-1; RoBERTa: offset past the padding index, as Hugging Face computes them) and the
 * bucket lists that let the backward sum each table row's positions in a fixed order without atomics.
 *
 * @module
 */

/** Options of {@linkcode positionIds}. */
export interface PositionOptions {
  /** RoBERTa numbering: non-pad tokens get `padId + 1 + (number of non-pad tokens before them)`, pads `padId`. */
  roberta: boolean;
  /** The padding token id (RoBERTa's `padding_idx`, 1 for roberta-base). */
  padId: number;
}

/**
 * Position ids of a (B, T) batch of token ids. BERT/ELECTRA: `t` for every position. RoBERTa (Hugging Face
 * `create_position_ids_from_input_ids`): `padId + cumsum(ids != padId)` for real tokens, `padId` for pads.
 *
 * @example
 * ```ts
 * import { positionIds } from "./mod.ts";
 * console.log(positionIds([0, 5, 2, 1, 1], { B: 1, T: 5 }, { roberta: true, padId: 1 })); // [2, 3, 4, 1, 1]
 * ```
 */
export function positionIds(
  ids: ArrayLike<number>,
  d: { B: number; T: number },
  o: PositionOptions,
): Uint32Array {
  if (ids.length !== d.B * d.T) {
    throw new RangeError(`positionIds: ids has ${ids.length} elements, B*T = ${d.B}*${d.T} = ${d.B * d.T}`);
  }
  const out = new Uint32Array(d.B * d.T);
  for (let b = 0; b < d.B; b++) {
    let seen = 0;
    for (let t = 0; t < d.T; t++) {
      const i = b * d.T + t;
      if (!o.roberta) out[i] = t;
      else if (ids[i] === o.padId) out[i] = o.padId;
      else out[i] = o.padId + ++seen;
    }
  }
  return out;
}

/** Length of the packed bucket list of N positions: `3 N + 2`. */
export function bucketsLength(N: number): number {
  return 3 * N + 2;
}

/**
 * Groups the N positions by the table row they read, for the deterministic embedding backward. Packed into
 * one u32 array of {@linkcode bucketsLength}(N): `[count, rows[N], offsets[N + 1], positions[N]]`: `count`
 * distinct rows in increasing order, bucket b holding `positions[offsets[b] .. offsets[b + 1])` in increasing
 * order (entries past `count` are unused). Throws if an id is not a row of a table of `tableRows` rows.
 *
 * @example
 * ```ts
 * import { embeddingBuckets } from "./mod.ts";
 * console.log(embeddingBuckets([7, 3, 7], 10)); // [2, 3, 7, 0, 0, 1, 3, 0, 1, 0, 2]
 * ```
 */
export function embeddingBuckets(ids: ArrayLike<number>, tableRows: number): Uint32Array {
  const N = ids.length;
  const order = Array.from({ length: N }, (_, i) => i);
  for (let i = 0; i < N; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= tableRows) {
      throw new RangeError(
        `embeddingBuckets: id ${id} at position ${i} is not a row of a ${tableRows}-row table`,
      );
    }
  }
  order.sort((a, b) => ids[a] - ids[b] || a - b);
  const out = new Uint32Array(bucketsLength(N));
  const rows = 1, offsets = 1 + N, positions = 2 + 2 * N;
  let count = 0;
  for (let k = 0; k < N; k++) {
    const i = order[k];
    if (k === 0 || ids[i] !== ids[order[k - 1]]) {
      out[rows + count] = ids[i];
      out[offsets + count] = k;
      count++;
    }
    out[positions + k] = i;
  }
  out[offsets + count] = N;
  out[0] = count;
  return out;
}
