import assert from "node:assert/strict";
import * as ref from "../../src/reference/dropout.ts";
import { assertGradient, dot, f64 } from "../_util/finite_diff.ts";
import { Rng } from "../_util/rng.ts";

Deno.test("reference dropout backward matches finite differences and the forward's mask", () => {
  const rng = { seed: 5, step: 2 };
  const o = { p: 0.4, layer: 1, slot: 0 };
  const x = f64(new Rng(3).floats(50));
  const g = f64(new Rng(4).floats(50));
  const dinp = new Float64Array(50);
  ref.dropoutBackward(dinp, g, rng, o);
  assertGradient((xs) => dot(ref.dropoutForward(xs, rng, o), g), x, dinp, {
    h: 1e-2,
    rtol: 1e-4,
    name: "dinp",
  });
  const keep = ref.dropoutMask(rng, o, 50);
  assert.ok(keep.includes(0) && keep.includes(1));
  assert.deepEqual(ref.dropoutMask(rng, { ...o, p: 0 }, 50), new Uint8Array(50).fill(1));
});
