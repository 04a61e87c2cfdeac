import assert from "node:assert/strict";
import { GLUE_TASKS } from "../../src/data/glue.ts";
import { GLUE_MAIN_METRIC, GLUE_METRICS, glueMetrics } from "../../src/metrics/glue.ts";
import { assertClose } from "../_util/assert_close.ts";

Deno.test("glue metrics: the task table, computed on hand-checked inputs", () => {
  // MCC example of classification_test: 8/16.
  assert.deepEqual(
    glueMetrics("cola", ["1", "1", "1", "0", "0", "0", "1", "0"], ["1", "1", "0", "0", "0", "1", "1", "0"]),
    {
      mcc: 0.5,
    },
  );
  // tp 2, fp 1, fn 0: F1 = 4/5; 3 of 4 correct. Numbers and strings compare alike.
  assert.deepEqual(glueMetrics("mrpc", [1, 0, 1, 1], ["1", "0", "0", "1"]), { f1: 0.8, accuracy: 0.75 });
  assert.deepEqual(glueMetrics("qqp", ["1", "0", "1", "1"], ["1", "0", "0", "1"]), {
    accuracy: 0.75,
    f1: 0.8,
  });
  assert.deepEqual(glueMetrics("sst2", ["1", "0"], ["1", "1"]), { accuracy: 0.5 });
  // MNLI mismatched names its keys with the split suffix.
  assert.deepEqual(
    glueMetrics("mnli", ["neutral", "entailment"], ["neutral", "neutral"], { suffix: "_mm" }),
    {
      accuracy_mm: 0.5,
    },
  );
  // STS-B: r = 11 / sqrt(130) (correlation_test); ranks equal the values, so rho = r here.
  const stsb = glueMetrics("stsb", [1, 2, 3, 4], [2, 4, 5, 9]);
  assertClose([stsb.pearson, stsb.spearman], [11 / Math.sqrt(130), 1], { atol: 1e-12, rtol: 0 });
  assert.throws(() => glueMetrics("stsb", ["1"], [1]), /preds\[0\] = '1' is not a number/);
});

Deno.test("glue metrics: every task has metrics and its main metric is one of them", () => {
  for (const task of GLUE_TASKS) assert.ok(GLUE_METRICS[task].includes(GLUE_MAIN_METRIC[task]), task);
  assert.deepEqual([GLUE_MAIN_METRIC.cola, GLUE_MAIN_METRIC.stsb], ["mcc", "pearson"]);
});
