/**
 * The tokenize stage: examples to token ids once, before training (CPU), and batches of them to the padded
 * (B, T) arrays the encoder reads (dynamic padding to the longest example of each batch, rounded up to a
 * multiple of 8).
 *
 * @module
 */
import type { TokenExample } from "../data/conll.ts";
import type { Example } from "../data/examples.ts";
import { type LabelSpace, labelToId } from "../data/labels.ts";
import type { EncodedBatch } from "../model/encoder.ts";
import { IGNORE_INDEX, padBatch, type TextTokenizer } from "../model/tokenizer.ts";
import { InputError } from "../io/input_error.ts";

/** One example as token ids with its target: a class id, a float (regression) or per-token class ids. */
export interface EncodedExample {
  ids: number[];
  typeIds: number[];
  /** Class id or float; null when the example has no label (prediction). */
  target: number | null;
  /** Per-token class ids (-100 where no loss applies), token classification. */
  tokenTargets?: number[];
  /** Word index of each token (token classification), null for special tokens. */
  wordIds?: (number | null)[];
}

/** Encodes a text (pair) example; labels map through the label space. */
export function encodeExample(
  tok: TextTokenizer,
  ex: Example<string | number>,
  space: LabelSpace,
): EncodedExample {
  const enc = tok.encode(ex.text, ex.textPair ?? null);
  let target: number | null = null;
  if (ex.label !== undefined && ex.label !== null) {
    if (space.kind === "regression") {
      target = Number(ex.label);
      if (!Number.isFinite(target)) throw new RangeError(`regression label '${ex.label}' is not a number`);
    } else target = labelToId(space, String(ex.label));
  }
  return { ids: enc.ids, typeIds: enc.typeIds, target };
}

/** Encodes a token-classification example (pre-split words with one tag each, or none). */
export function encodeTokenExample(tok: TextTokenizer, ex: TokenExample, space: LabelSpace): EncodedExample {
  if (space.kind !== "classification") throw new InputError("token classification needs class labels");
  const labels = ex.labels.length ? ex.labels.map((l) => labelToId(space, l)) : undefined;
  const enc = tok.encodeWords(ex.words, labels);
  return { ids: enc.ids, typeIds: enc.typeIds, target: null, tokenTargets: enc.labels, wordIds: enc.wordIds };
}

/**
 * Batches are padded to a multiple of this many tokens, as transformers' `pad_to_multiple_of=8`: the attention's
 * fast kernels need T % 4 = 0, and with T = 127 or 126 a BERT-mini training step (batch 8) took 1.52x and 1.68x
 * the time of T = 128 on llvmpipe (medians of 5 interleaved steps, 2026-11-27). Padded positions are masked
 * keys with no loss, so the results equal the unpadded batch's up to float rounding.
 */
export const PAD_MULTIPLE = 8;

/** The length a batch whose longest example has T tokens is padded to: T rounded up to PAD_MULTIPLE, within `limit`. */
export function paddedLength(T: number, limit: number): number {
  return Math.max(T, Math.min(limit, Math.ceil(T / PAD_MULTIPLE) * PAD_MULTIPLE));
}

/**
 * Pads a batch to its longest example rounded up by {@linkcode paddedLength} within `limit` (the encoder's
 * `maxLength`); targets go to `labels` ((B) or (B, T)) when every example has one.
 */
export function collate(items: readonly EncodedExample[], padId: number, limit: number): EncodedBatch {
  const longest = Math.max(1, ...items.map((e) => e.ids.length));
  const batch = padBatch(
    items.map((e) => ({ ids: e.ids, typeIds: e.typeIds, labels: e.tokenTargets })),
    padId,
    paddedLength(longest, limit),
  );
  const { B, T } = batch;
  let labels: ArrayLike<number> | undefined;
  if (items.every((e) => e.tokenTargets)) labels = batch.labels;
  else if (items.every((e) => e.target !== null)) labels = items.map((e) => e.target!);
  else if (items.some((e) => e.tokenTargets)) labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  return {
    B,
    T,
    inputIds: batch.inputIds,
    attentionMask: batch.attentionMask,
    tokenTypeIds: batch.tokenTypeIds,
    labels,
  };
}
