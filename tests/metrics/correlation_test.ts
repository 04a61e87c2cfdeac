import assert from "node:assert/strict";
import { averageRanks, pearson, spearman } from "../../src/metrics/correlation.ts";
import { assertClose } from "../_util/assert_close.ts";

const close = (actual: number, expected: number, name: string) =>
  assertClose([actual], [expected], { atol: 1e-12, rtol: 0, name });

Deno.test("pearson: hand-computed, and NaN for a constant input", () => {
  // means 2.5 and 5; dx = -1.5 -.5 .5 1.5, dy = -3 -1 0 4; sxy = 4.5 + .5 + 0 + 6 = 11;
  // sxx = 5, syy = 9 + 1 + 0 + 16 = 26: r = 11 / sqrt(130).
  close(pearson([1, 2, 3, 4], [2, 4, 5, 9]), 11 / Math.sqrt(130), "pearson");
  close(pearson([1, 2, 3], [6, 4, 2]), -1, "pearson inverse");
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.throws(() => pearson([1], [1, 2]), /1 predictions but 2 references/);
});

Deno.test("spearman: ties get average ranks", () => {
  // 1 -> rank 1, 2 -> rank 2, the three 3s share ranks 3, 4, 5 -> 4.
  assert.deepEqual([...averageRanks([3, 1, 3, 3, 2])], [4, 1, 4, 4, 2]);
  // ranks x = 1, 2.5, 2.5, 4; ranks y = 1, 2, 3.5, 3.5; both means 2.5;
  // dx = -1.5 0 0 1.5, dy = -1.5 -.5 1 1: sxy = 2.25 + 1.5 = 3.75, sxx = 4.5, syy = 2.25 + .25 + 1 + 1 = 4.5;
  // rho = 3.75 / 4.5 = 5/6.
  close(spearman([1, 2, 2, 3], [10, 20, 30, 30]), 5 / 6, "spearman ties");
  // Monotone but not linear: rho = 1 while r < 1.
  close(spearman([1, 2, 3], [1, 8, 27]), 1, "spearman monotone");
  assert.ok(pearson([1, 2, 3], [1, 8, 27]) < 0.99);
});
