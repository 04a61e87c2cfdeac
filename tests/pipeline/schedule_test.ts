import assert from "node:assert/strict";
import { batches, epochOrder, learningRate, totalSteps, warmupSteps } from "../../src/pipeline/schedule.ts";

Deno.test("linear schedule with warm-up matches transformers' get_linear_schedule_with_warmup", () => {
  // total 10, warm-up 2, base 1: steps 0,1 warm up 0, 0.5; then (10 - s) / 8.
  const lrs = Array.from({ length: 11 }, (_, s) => learningRate("linear", 1, s, 10, 2));
  assert.deepEqual(lrs, [0, 0.5, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8, 0]);
  assert.equal(learningRate("constant", 3e-5, 7, 10, 0), 3e-5);
  assert.equal(learningRate("constant", 1, 1, 10, 4), 0.25);
  assert.equal(warmupSteps(100, 0.06), 6);
  assert.equal(warmupSteps(10, 0), 0);
});

Deno.test("epoch order: file order without shuffle; a seeded permutation per epoch otherwise", () => {
  assert.deepEqual(epochOrder(5, 1, 0, false), [0, 1, 2, 3, 4]);
  const a = epochOrder(50, 7, 0, true);
  assert.deepEqual(a, epochOrder(50, 7, 0, true));
  assert.notDeepEqual(a, epochOrder(50, 7, 1, true));
  assert.notDeepEqual(a, epochOrder(50, 8, 0, true));
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("batches keep the last partial batch; total steps", () => {
  assert.deepEqual(batches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  for (const size of [0, -1, 1.5, NaN]) assert.throws(() => batches([1, 2], size), RangeError);
  assert.equal(totalSteps(5, 2, 1, 2, -1), 6);
  assert.equal(totalSteps(5, 2, 2, 1, -1), 2);
  assert.equal(totalSteps(5, 2, 1, 2, 4), 4);
});
