import * as ref from "../../src/reference/layernorm.ts";
import { assertGradient, dot, f64 } from "../_util/finite_diff.ts";
import { Rng } from "../_util/rng.ts";

Deno.test("reference layernorm backward matches finite differences (dinp, dweight, dbias)", () => {
  const rows = 3, C = 7, eps = 1e-5;
  const rng = new Rng(11);
  const inp = f64(rng.floats(rows * C, -2, 2));
  const weight = f64(rng.floats(C));
  const bias = f64(rng.floats(C));
  const g = f64(rng.floats(rows * C));
  const d = { rows, C, eps };
  const { mean, rstd } = ref.layernormForward(inp, weight, bias, d);
  const grads = {
    dinp: new Float64Array(rows * C),
    dweight: new Float64Array(C),
    dbias: new Float64Array(C),
  };
  ref.layernormBackward(grads, { dout: g, inp, weight, mean, rstd }, d);
  const loss = (i: Float64Array, w: Float64Array, b: Float64Array) =>
    dot(ref.layernormForward(i, w, b, d).out, g);
  assertGradient((x) => loss(x, weight, bias), inp, grads.dinp, { name: "dinp" });
  assertGradient((x) => loss(inp, x, bias), weight, grads.dweight, { name: "dweight" });
  assertGradient((x) => loss(inp, weight, x), bias, grads.dbias, { name: "dbias" });
});
