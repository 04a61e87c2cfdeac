import assert from "node:assert/strict";
import {
  applyLabelMap,
  idToLabel,
  LabelError,
  labelToId,
  numLabels,
  parseLabelMap,
  resolveLabelSpace,
  sortLabels,
} from "../../src/data/labels.ts";

Deno.test("labels: numeric-looking labels sort numerically, before the others", () => {
  assert.deepEqual(sortLabels(["10", "2", "1", "2", "0"]), ["0", "1", "2", "10"]);
  assert.deepEqual(sortLabels(["neutral", "entailment", "contradiction"]), [
    "contradiction",
    "entailment",
    "neutral",
  ]);
  assert.deepEqual(sortLabels(["b", "-1", "a", "0.5"]), ["-1", "0.5", "a", "b"]);
});

Deno.test("labels: the checkpoint's label2id is kept when it covers the data, else sorted data labels", () => {
  const label2id = { positive: 1, negative: 0 };
  const kept = resolveLabelSpace(["positive", "positive"], { label2id });
  assert.equal(kept.kind, "classification");
  if (kept.kind !== "classification") return;
  assert.deepEqual([kept.labels, kept.source], [["negative", "positive"], "checkpoint"]);
  assert.equal(labelToId(kept, "positive"), 1);
  assert.equal(idToLabel(kept, 0), "negative");
  // A fresh head (LABEL_0, LABEL_1) does not cover "0".."2": the data decides.
  const fresh = resolveLabelSpace(["2", "10", "0", "2"], { label2id: { LABEL_0: 0, LABEL_1: 1 } });
  assert.ok(fresh.kind === "classification");
  assert.deepEqual([fresh.labels, fresh.label2id, fresh.source], [["0", "2", "10"], {
    "0": 0,
    "2": 1,
    "10": 2,
  }, "data"]);
  assert.equal(numLabels(fresh), 3);
  assert.throws(() => labelToId(fresh, "1"), LabelError);
  assert.throws(() => labelToId(fresh, "toString"), /unknown label 'toString'/);
  assert.throws(
    () => resolveLabelSpace(["a"], { label2id: { a: 0, b: 2 } }),
    /maps 'b' to 2: ids must be 0\.\.1/,
  );
});

Deno.test("labels: regression has one output", () => {
  const space = resolveLabelSpace([], { regression: true });
  assert.deepEqual([space.kind, numLabels(space)], ["regression", 1]);
  assert.throws(() => resolveLabelSpace([]), /no labels/);
});

Deno.test("labels: --label-map as 'a=b,c=b' or JSON maps predictions (HANS)", () => {
  const preds = ["entailment", "neutral", "contradiction"];
  const expected = ["entailment", "non-entailment", "non-entailment"];
  const fromPairs = parseLabelMap("neutral=non-entailment, contradiction=non-entailment");
  const fromJson = parseLabelMap('{"neutral":"non-entailment","contradiction":"non-entailment"}');
  assert.deepEqual(applyLabelMap(preds, fromPairs), expected);
  assert.deepEqual(applyLabelMap(preds, fromJson), expected);
  assert.deepEqual(applyLabelMap(preds, parseLabelMap({ neutral: "x" })), [
    "entailment",
    "x",
    "contradiction",
  ]);
  assert.throws(() => parseLabelMap("neutral"), /entry 'neutral' is not 'from=to'/);
  assert.throws(() => parseLabelMap("{neutral"), /not valid JSON/);
  assert.throws(() => parseLabelMap('{"a":1}'), /value of 'a' is not a string/);
});
