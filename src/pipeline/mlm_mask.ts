/**
 * BERT's masking of a batch for masked-language-model pretraining, on the CPU at batch time, seeded by
 * (seed, step) so that a resumed run masks exactly as an uninterrupted one:
 * - candidates: the tokens of each sequence that are neither padding (attention 0) nor special;
 * - selected: `max(1, round(0.15 n))` of the `n` candidates of each sequence (Google's create_pretraining_data
 *   rule: an exact count, positions drawn by a seeded partial Fisher-Yates shuffle);
 * - of those, 80% become [MASK], 10% a random non-special token, 10% stay unchanged (one draw each);
 * - labels: the original token at the selected positions, -100 elsewhere.
 *
 * @module
 */
import { Purpose, randUniform, streamId } from "../reference/random.ts";
import { InputError } from "../io/input_error.ts";

/** Ignored label (no loss). */
export const IGNORE = -100;

/** What masking needs to know. */
export interface MlmMaskOptions {
  /** Id of [MASK]. */
  maskId: number;
  vocabSize: number;
  /** Ids never selected nor drawn as random replacements ([PAD] [UNK] [CLS] [SEP] [MASK]). */
  specialIds: readonly number[];
  /** Share of the candidates selected (default 0.15). */
  probability?: number;
  seed: number;
  /** Step number: each step draws its own masks. */
  step: number;
}

/** A masked batch: the ids the model reads and the labels of the loss. */
export interface MaskedBatch {
  inputIds: Int32Array;
  labels: Int32Array;
}

/**
 * Masks a (B, T) batch as BERT does (see the module doc).
 *
 * @example
 * ```ts
 * import { maskTokens } from "./src/pipeline/mlm_mask.ts";
 * const ids = Int32Array.from([2, 10, 11, 12, 13, 14, 15, 16, 3]);
 * const m = maskTokens(ids, new Int32Array(9).fill(1), { B: 1, T: 9 },
 *   { maskId: 4, vocabSize: 20, specialIds: [0, 1, 2, 3, 4], seed: 1, step: 0 });
 * console.log(m.labels.filter((l) => l !== -100).length); // 1 (round(0.15 * 7))
 * ```
 */
export function maskTokens(
  ids: ArrayLike<number>,
  attentionMask: ArrayLike<number>,
  shape: { B: number; T: number },
  o: MlmMaskOptions,
): MaskedBatch {
  const { B, T } = shape;
  const prob = o.probability ?? 0.15;
  const special = new Set(o.specialIds);
  const regular = Array.from({ length: o.vocabSize }, (_, i) => i).filter((i) => !special.has(i));
  if (!regular.length) throw new InputError(`masking: every one of the ${o.vocabSize} tokens is special`);
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(B * T).fill(IGNORE);
  for (let b = 0; b < B; b++) {
    const candidates: number[] = [];
    for (let t = 0; t < T; t++) {
      const n = b * T + t;
      if (attentionMask[n] && !special.has(ids[n])) candidates.push(n);
    }
    if (!candidates.length) continue;
    const k = Math.max(1, Math.round(prob * candidates.length));
    const pick = streamId(o.step, b, Purpose.mlmMask, 0);
    const kind = streamId(o.step, b, Purpose.mlmMask, 1);
    for (let j = 0; j < k; j++) {
      // Partial Fisher-Yates: position j takes a uniformly drawn one of the remaining candidates.
      const r = j + Math.floor(randUniform(o.seed, pick, j) * (candidates.length - j));
      [candidates[j], candidates[r]] = [candidates[r], candidates[j]];
      const n = candidates[j];
      labels[n] = ids[n];
      const u = randUniform(o.seed, kind, 2 * j);
      if (u < 0.8) inputIds[n] = o.maskId;
      else if (u < 0.9) {
        inputIds[n] = regular[Math.floor(randUniform(o.seed, kind, 2 * j + 1) * regular.length)];
      }
    }
  }
  return { inputIds, labels };
}

/** Accuracy of the argmax of `logits (P, V)` against `targets (P)` over the targets that are not ignored. */
export function maskedAccuracy(
  logits: Float32Array,
  targets: ArrayLike<number>,
  V: number,
): { correct: number; count: number } {
  let correct = 0;
  let count = 0;
  for (let p = 0; p < targets.length; p++) {
    if (targets[p] === IGNORE) continue;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[p * V + v] > logits[p * V + best]) best = v;
    count++;
    if (best === targets[p]) correct++;
  }
  return { correct, count };
}
