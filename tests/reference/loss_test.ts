import assert from "node:assert/strict";
import * as ref from "../../src/reference/loss.ts";
import { assertGradient, f64 } from "../_util/finite_diff.ts";
import { Rng } from "../_util/rng.ts";

Deno.test("reference cross-entropy dlogits match finite differences, with ignored rows", () => {
  const N = 5, V = 7;
  const logits = f64(new Rng(1).floats(N * V, -3, 3));
  const targets = [3, ref.IGNORE_INDEX, 0, 6, ref.IGNORE_INDEX];
  const d = { N, V };
  const { dlogits, losses, loss } = ref.crossEntropyForward(logits, targets, d);
  assertGradient((x) => ref.crossEntropyForward(x, targets, d).loss, logits, dlogits, { name: "dlogits" });
  assert.equal(losses[1], 0);
  assert.ok(Math.abs(loss - (losses[0] + losses[2] + losses[3]) / 3) < 1e-12);
});

Deno.test("reference cross-entropy with every row ignored is 0 without NaN", () => {
  const r = ref.crossEntropyForward(new Float64Array(6), [-100, -100], { N: 2, V: 3 });
  assert.equal(r.loss, 0);
  assert.ok(r.dlogits.every((v) => v === 0));
});

Deno.test("reference MSE dpred matches finite differences; N = 0 gives 0", () => {
  const pred = f64(new Rng(2).floats(9));
  const target = new Rng(3).floats(9);
  const { dpred } = ref.mseForward(pred, target);
  assertGradient((x) => ref.mseForward(x, target).loss, pred, dpred, { name: "dpred" });
  assert.equal(ref.mseForward([], []).loss, 0);
});
