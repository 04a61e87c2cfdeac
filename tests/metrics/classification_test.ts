import assert from "node:assert/strict";
import { accuracy, binaryF1, macroF1, matthewsCorrelation } from "../../src/metrics/classification.ts";
import { assertClose } from "../_util/assert_close.ts";

const close = (actual: number, expected: number, name: string) =>
  assertClose([actual], [expected], { atol: 1e-12, rtol: 0, name });

Deno.test("accuracy: correct / total", () => {
  // 3 of 4 equal.
  close(accuracy(["a", "b", "a", "c"], ["a", "a", "a", "c"]), 3 / 4, "accuracy");
  assert.throws(() => accuracy(["a"], []), /1 predictions but 0 references/);
});

Deno.test("binary F1: 2tp / (2tp + fp + fn) for a configurable positive label", () => {
  const preds = ["1", "1", "0", "0", "1"];
  const refs = ["1", "0", "0", "1", "1"];
  // Positive "1": tp = 2 (items 0, 4), fp = 1 (item 1), fn = 1 (item 3): F1 = 4 / (4 + 1 + 1) = 2/3.
  close(binaryF1(preds, refs, "1"), 2 / 3, "f1(pos 1)");
  // Positive "0": tp = 1 (item 2), fp = 1 (item 3), fn = 1 (item 1): F1 = 2 / (2 + 1 + 1) = 1/2.
  close(binaryF1(preds, refs, "0"), 1 / 2, "f1(pos 0)");
  // Numbers work too; no positive anywhere: 0/0 -> 0 (scikit-learn's zero_division default).
  close(binaryF1([0, 0], [0, 0], 1), 0, "f1 no positives");
});

Deno.test("macro F1: mean of per-class F1 over all labels seen", () => {
  const preds = ["a", "a", "b", "c", "c", "c"];
  const refs = ["a", "b", "b", "c", "c", "a"];
  // a: tp 1, fp 1 (item 1), fn 1 (item 5) -> 2/4 = 1/2
  // b: tp 1, fp 0, fn 1 (item 1)          -> 2/3
  // c: tp 2, fp 1 (item 5), fn 0          -> 4/5
  // macro = (1/2 + 2/3 + 4/5) / 3 = (15 + 20 + 24) / 90 = 59/90
  close(macroF1(preds, refs), 59 / 90, "macro f1");
});

Deno.test("Matthews correlation: binary, multiclass, perfect inverse, undefined -> 0", () => {
  // TP 3 (0,1,6), FP 1 (2), TN 3 (3,4,7), FN 1 (5): (3*3 - 1*1) / sqrt(4*4*4*4) = 8/16 = 0.5.
  close(matthewsCorrelation([1, 1, 1, 0, 0, 0, 1, 0], [1, 1, 0, 0, 0, 1, 1, 0]), 0.5, "mcc binary");
  // c = 2, s = 4, pred counts a2 b1 c1, true counts a1 b2 c1:
  // (2*4 - (2*1 + 1*2 + 1*1)) / sqrt((16 - 6) * (16 - 6)) = 3/10.
  close(matthewsCorrelation(["a", "b", "c", "a"], ["a", "b", "b", "c"]), 0.3, "mcc multiclass");
  // c = 0, s = 2: (0 - 2) / sqrt((4 - 2)(4 - 2)) = -1.
  close(matthewsCorrelation(["1", "0"], ["0", "1"]), -1, "mcc inverse");
  // Constant prediction: sum p_k^2 = 9 = s^2, denominator 0 -> 0 like scikit-learn.
  assert.equal(matthewsCorrelation(["1", "1", "1"], ["1", "0", "1"]), 0);
  assert.equal(matthewsCorrelation(["1", "0", "1"], ["1", "1", "1"]), 0);
});
