/**
 * Classification metrics over predicted and reference labels, matching scikit-learn: accuracy, binary and macro
 * F1 (0 where a precision or recall is 0/0), and Matthews correlation (0 when undefined).
 *
 * @module
 */

/** A class label (compared with `===`). */
export type Label = string | number;

/** Throws unless both arrays have the same length. */
export function assertSameLength(metric: string, preds: ArrayLike<unknown>, refs: ArrayLike<unknown>): void {
  if (preds.length !== refs.length) {
    throw new RangeError(`${metric}: ${preds.length} predictions but ${refs.length} references`);
  }
}

/** Fraction of predictions equal to the reference; NaN for no examples. */
export function accuracy(preds: readonly Label[], refs: readonly Label[]): number {
  assertSameLength("accuracy", preds, refs);
  let correct = 0;
  for (let i = 0; i < preds.length; i++) if (preds[i] === refs[i]) correct++;
  return correct / preds.length;
}

/** True positives, false positives and false negatives of one class. */
export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

/** Counts of `positive` as a one-vs-rest class. */
export function classCounts(preds: readonly Label[], refs: readonly Label[], positive: Label): Counts {
  const c = { tp: 0, fp: 0, fn: 0 };
  for (let i = 0; i < preds.length; i++) {
    const p = preds[i] === positive;
    const r = refs[i] === positive;
    if (p && r) c.tp++;
    else if (p) c.fp++;
    else if (r) c.fn++;
  }
  return c;
}

/** F1 from counts: 2tp / (2tp + fp + fn), 0 when there is nothing to count. */
export function f1FromCounts({ tp, fp, fn }: Counts): number {
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/**
 * F1 of the positive class (MRPC and QQP: label "1").
 *
 * @example
 * ```ts
 * import { binaryF1 } from "./classification.ts";
 * console.log(binaryF1(["1", "1", "0"], ["1", "0", "1"], "1")); // 0.5
 * ```
 */
export function binaryF1(preds: readonly Label[], refs: readonly Label[], positive: Label = "1"): number {
  assertSameLength("binaryF1", preds, refs);
  return f1FromCounts(classCounts(preds, refs, positive));
}

/** Unweighted mean of per-class F1 over every label seen in predictions or references. */
export function macroF1(preds: readonly Label[], refs: readonly Label[]): number {
  assertSameLength("macroF1", preds, refs);
  const labels = new Set<Label>([...preds, ...refs]);
  if (labels.size === 0) return 0;
  let sum = 0;
  for (const label of labels) sum += f1FromCounts(classCounts(preds, refs, label));
  return sum / labels.size;
}

/**
 * Matthews correlation for any number of classes (scikit-learn's formula):
 * (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)) with c correct, s total, p_k / t_k predicted / true counts
 * of class k; 0 when the denominator is 0 (a constant prediction or reference).
 */
export function matthewsCorrelation(preds: readonly Label[], refs: readonly Label[]): number {
  assertSameLength("matthewsCorrelation", preds, refs);
  const predCount = new Map<Label, number>();
  const trueCount = new Map<Label, number>();
  let correct = 0;
  for (let i = 0; i < preds.length; i++) {
    predCount.set(preds[i], (predCount.get(preds[i]) ?? 0) + 1);
    trueCount.set(refs[i], (trueCount.get(refs[i]) ?? 0) + 1);
    if (preds[i] === refs[i]) correct++;
  }
  const s = preds.length;
  let pt = 0;
  let pp = 0;
  let tt = 0;
  for (const [k, p] of predCount) pt += p * (trueCount.get(k) ?? 0);
  for (const p of predCount.values()) pp += p * p;
  for (const t of trueCount.values()) tt += t * t;
  const denom = Math.sqrt((s * s - pp) * (s * s - tt));
  return denom === 0 ? 0 : (correct * s - pt) / denom;
}
