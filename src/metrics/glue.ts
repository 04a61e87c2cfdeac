/**
 * GLUE's metrics per task (as in transformers' `glue_compute_metrics`) and the metric each task stops early on.
 *
 * @module
 */
import { GLUE, type GlueTask } from "../data/glue.ts";
import { accuracy, binaryF1, matthewsCorrelation } from "./classification.ts";
import { pearson, spearman } from "./correlation.ts";

/** A metric name of the GLUE table. */
export type GlueMetric = "mcc" | "accuracy" | "f1" | "pearson" | "spearman";

/** The metrics each GLUE task reports (MNLI: on both dev_matched and dev_mismatched). */
export const GLUE_METRICS: Readonly<Record<GlueTask, readonly GlueMetric[]>> = {
  cola: ["mcc"],
  sst2: ["accuracy"],
  mrpc: ["f1", "accuracy"],
  stsb: ["pearson", "spearman"],
  qqp: ["accuracy", "f1"],
  mnli: ["accuracy"],
  qnli: ["accuracy"],
  rte: ["accuracy"],
  wnli: ["accuracy"],
};

/**
 * The metric early stopping and model selection use by default (higher is better): the AD-DROP paper reports
 * Matthews correlation for CoLA, Pearson for STS-B and accuracy for the other tasks (MNLI: matched).
 */
export const GLUE_MAIN_METRIC: Readonly<Record<GlueTask, GlueMetric>> = {
  cola: "mcc",
  sst2: "accuracy",
  mrpc: "accuracy",
  stsb: "pearson",
  qqp: "accuracy",
  mnli: "accuracy",
  qnli: "accuracy",
  rte: "accuracy",
  wnli: "accuracy",
};

/**
 * The task's metrics on one dev split. Classification labels are compared as strings (so 1 and "1" match);
 * STS-B takes numbers. Pass `suffix` (MNLI mismatched: `_mm`, see `GLUE.mnli.devSplits`) to name the keys.
 *
 * @example
 * ```ts
 * import { glueMetrics } from "./glue.ts";
 * console.log(glueMetrics("mrpc", ["1", "0", "1", "1"], ["1", "0", "0", "1"]));
 * // { f1: 0.8, accuracy: 0.75 }
 * ```
 */
export function glueMetrics(
  task: GlueTask,
  preds: readonly (string | number)[],
  refs: readonly (string | number)[],
  { suffix = "" }: { suffix?: string } = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  if (GLUE[task].regression) {
    const num = (xs: readonly (string | number)[], what: string) =>
      xs.map((v, i) => {
        if (typeof v !== "number") {
          throw new TypeError(`glueMetrics(${task}): ${what}[${i}] = '${v}' is not a number`);
        }
        return v;
      });
    const p = num(preds, "preds");
    const r = num(refs, "refs");
    out[`pearson${suffix}`] = pearson(p, r);
    out[`spearman${suffix}`] = spearman(p, r);
    return out;
  }
  const p = preds.map(String);
  const r = refs.map(String);
  for (const metric of GLUE_METRICS[task]) {
    const value = metric === "mcc"
      ? matthewsCorrelation(p, r)
      : metric === "f1"
      ? binaryF1(p, r, "1")
      : accuracy(p, r);
    out[`${metric}${suffix}`] = value;
  }
  return out;
}
