/**
 * Evaluation: the eval program (dropout off) over a data set in batches, logits read back per batch, then
 * predictions and the task's metrics (GLUE metrics by task, seqeval for token classification, accuracy and
 * macro F1 otherwise, Pearson/Spearman for regression).
 *
 * @module
 */
import type { GlueTask } from "../data/glue.ts";
import { applyLabelMap, type LabelMap, type LabelSpace } from "../data/labels.ts";
import { CommandBatch } from "../gpu/encoder.ts";
import { InOrder, readMany } from "../gpu/readback.ts";
import type { HostArray } from "../gpu/tensor.ts";
import { accuracy, macroF1 } from "../metrics/classification.ts";
import { pearson, spearman } from "../metrics/correlation.ts";
import { glueMetrics } from "../metrics/glue.ts";
import { seqeval, tokenAccuracy } from "../metrics/seqeval.ts";
import type { Encoder } from "../model/encoder.ts";
import { batches } from "./schedule.ts";
import { collate, type EncodedExample } from "./tokenize.ts";
import type { ProgramCache } from "./train_step.ts";

/** Logits of every example, in order: (L) per example, or (tokens, L) per example for token classification. */
export interface Predictions {
  logits: Float32Array[];
  /** Mean loss over batches weighted by rows with a target (NaN when no example has a target). */
  loss: number;
}

/** Runs the eval program over `items` in batches of `batchSize` and returns their logits (and loss). */
export async function predictLogits(
  enc: Encoder,
  programs: ProgramCache,
  items: readonly EncodedExample[],
  batchSize: number,
  padId: number,
): Promise<Predictions> {
  const L = enc.cfg.numLabels;
  const token = enc.cfg.head === "token_classification";
  const out: Float32Array[] = [];
  let lossSum = 0;
  let lossRows = 0;
  // One batch in flight: the next is submitted before the previous one's logits are awaited.
  const inFlight = new InOrder<HostArray[]>();
  for (const group of batches(items, batchSize)) {
    const batch = collate(group, padId, enc.options.maxLength);
    const withTargets = batch.labels !== undefined && group.every((e) => e.target !== null || e.tokenTargets);
    const prog = await programs.get(batch.B, batch.T, "eval");
    enc.writeBatch(batch);
    const cmd = new CommandBatch(enc.gpu, "eval");
    cmd.run(...prog.forward);
    if (withTargets) cmd.run(...prog.loss);
    cmd.submit();
    // The copy into the staging buffer is submitted now, before the next batch overwrites the logits.
    await inFlight.push(readMany(enc.gpu, [prog.logits, prog.lossValue]), ([logits, loss]) => {
      if (withTargets) {
        const rows = token
          ? group.reduce((a, e) => a + (e.tokenTargets?.filter((t) => t >= 0).length ?? 0), 0)
          : batch.B;
        lossSum += loss[0] * rows;
        lossRows += rows;
      }
      group.forEach((e, b) => {
        if (token) {
          out.push((logits as Float32Array).slice(b * batch.T * L, (b * batch.T + e.ids.length) * L));
        } else out.push((logits as Float32Array).slice(b * L, (b + 1) * L));
      });
    });
  }
  await inFlight.drain();
  return { logits: out, loss: lossRows ? lossSum / lossRows : NaN };
}

/**
 * The `maxLength` (capped at the model's `limit`) and `batchSize` of a predict or evaluate run, defaults 128 and
 * 32; throws a RangeError naming a bad one (NaN from a bad flag would otherwise reach the GPU as a shape).
 */
export function runSizes(
  o: { maxLength?: number; batchSize?: number },
  limit: number,
): { maxLength: number; batchSize: number } {
  const { maxLength = 128, batchSize = 32 } = o;
  if (!(Number.isInteger(maxLength) && maxLength >= 2)) {
    throw new RangeError(`maxLength must be an integer >= 2, got ${maxLength}`);
  }
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
  }
  return { maxLength: Math.min(maxLength, limit), batchSize };
}

/** Index of the largest of `n` values from `at`. */
export function argmax(xs: ArrayLike<number>, at = 0, n = xs.length - at): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (xs[at + i] > xs[at + best]) best = i;
  return best;
}

/** Softmax of a row (for `predict`'s probabilities). */
export function softmax(xs: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(xs));
  const e = Array.from(xs, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Predicted labels of sequence examples (class names, or numbers for regression). */
export function sequencePredictions(logits: readonly Float32Array[], space: LabelSpace): (string | number)[] {
  if (space.kind === "regression") return logits.map((l) => l[0]);
  return logits.map((l) => space.labels[argmax(l)]);
}

/** Word-level tag predictions: the argmax at each word's first sub-token. */
export function wordPredictions(
  logits: Float32Array,
  wordIds: readonly (number | null)[],
  labels: readonly string[],
): string[] {
  const L = labels.length;
  const out: string[] = [];
  wordIds.forEach((w, i) => {
    if (w !== null && wordIds[i - 1] !== w) out[w] = labels[argmax(logits, i * L, L)];
  });
  return out.filter((x) => x !== undefined);
}

/** How the metrics of a run are chosen. */
export interface MetricSpec {
  task?: GlueTask | "conll2003";
  tokenClassification: boolean;
  labelMap?: LabelMap;
}

/** Metrics of predictions against references (strings compared after the label map; numbers for regression). */
export function computeMetrics(
  spec: MetricSpec,
  preds: readonly (string | number)[] | readonly string[][],
  refs: readonly (string | number)[] | readonly string[][],
): Record<string, number> {
  if (spec.tokenClassification) {
    const p = (preds as string[][]).map((s) => (spec.labelMap ? applyLabelMap(s, spec.labelMap) : s));
    const r = refs as string[][];
    const s = seqeval(p, r);
    return { precision: s.precision, recall: s.recall, f1: s.f1, accuracy: tokenAccuracy(p, r) };
  }
  const p = preds as (string | number)[];
  const r = refs as (string | number)[];
  if (typeof p[0] === "number" || typeof r[0] === "number") {
    const pn = p.map(Number);
    const rn = r.map(Number);
    if (spec.task && spec.task !== "conll2003") return glueMetrics(spec.task, pn, rn);
    const mse = pn.reduce((a, x, i) => a + (x - rn[i]) ** 2, 0) / Math.max(1, pn.length);
    return { pearson: pearson(pn, rn), spearman: spearman(pn, rn), mse };
  }
  const ps = p.map(String);
  const mapped = spec.labelMap ? applyLabelMap(ps, spec.labelMap) : ps;
  const rs = r.map(String);
  if (spec.task && spec.task !== "conll2003") return glueMetrics(spec.task, mapped, rs);
  return { accuracy: accuracy(mapped, rs), macro_f1: macroF1(mapped, rs) };
}
