/**
 * The tokenize stage: examples to token ids once, before training (CPU), and batches of them to the padded
 * (B, T) arrays the encoder reads (dynamic padding to the longest example of each batch).
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

/** Pads a batch to its longest example; targets go to `labels` ((B) or (B, T)) when every example has one. */
export function collate(items: readonly EncodedExample[], padId: number): EncodedBatch {
  const batch = padBatch(
    items.map((e) => ({ ids: e.ids, typeIds: e.typeIds, labels: e.tokenTargets })),
    padId,
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
