import assert from "node:assert/strict";
import * as ref from "../../src/reference/activation.ts";
import { assertGradient, dot, f64 } from "../_util/finite_diff.ts";
import { Rng } from "../_util/rng.ts";

function near(a: number, e: number, tol: number): void {
  assert.ok(Math.abs(a - e) <= tol, `${a} differs from ${e} by more than ${tol}`);
}

Deno.test("reference erf matches known values", () => {
  // Values from Abramowitz & Stegun table 7.1 / mpmath.
  near(ref.erf(0.5), 0.5204998778130465, 1e-15);
  near(ref.erf(1), 0.8427007929497149, 1e-15);
  near(ref.erf(2), 0.9953222650189527, 1e-15);
  near(ref.erf(-3), -0.9999779095030014, 1e-15);
  near(ref.erf(1e-3), 0.0011283787909692363, 1e-17);
});

for (const kind of ["gelu", "gelu_new", "tanh", "relu"] as const) {
  Deno.test(`reference ${kind} backward matches finite differences`, () => {
    const rng = new Rng(7);
    // Avoid x = 0 exactly for ReLU's kink; uniform draws never hit it.
    const x = f64(rng.floats(64, -4, 4));
    const g = f64(rng.floats(64));
    const dinp = new Float64Array(64);
    ref.activationBackward(kind, dinp, { dout: g, inp: x });
    assertGradient((xs) => dot(ref.activationForward(kind, xs), g), x, dinp, { h: 1e-6, name: `d${kind}` });
    const acc = new Float64Array(64).fill(1);
    ref.activationBackward(kind, acc, { dout: g, inp: x }, true);
    for (let i = 0; i < 64; i++) near(acc[i], 1 + dinp[i], 1e-12);
  });
}
