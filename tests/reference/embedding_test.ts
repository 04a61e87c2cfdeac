import * as ref from "../../src/reference/embedding.ts";
import { assertGradient, dot, f64 } from "../_util/finite_diff.ts";
import { Rng } from "../_util/rng.ts";

Deno.test("reference embedding backward matches finite differences for all three tables", () => {
  const rng = new Rng(9);
  const C = 3, ids = [4, 1, 4, 0], posIds = [0, 1, 2, 3], typeIds = [0, 0, 1, 1];
  const wte = f64(rng.floats(5 * C)), wpe = f64(rng.floats(4 * C)), wtt = f64(rng.floats(2 * C));
  const g = f64(rng.floats(ids.length * C));
  const grads = {
    dwte: new Float64Array(5 * C),
    dwpe: new Float64Array(4 * C),
    dwtt: new Float64Array(2 * C),
  };
  const t = { ids, posIds, typeIds };
  ref.embeddingBackward(grads, g, t, C);
  const loss = (w: Float64Array, p: Float64Array, y: Float64Array) =>
    dot(ref.embeddingForward({ ...t, wte: w, wpe: p, wtt: y }, C), g);
  assertGradient((x) => loss(x, wpe, wtt), wte, grads.dwte, { name: "dwte" });
  assertGradient((x) => loss(wte, x, wtt), wpe, grads.dwpe, { name: "dwpe" });
  assertGradient((x) => loss(wte, wpe, x), wtt, grads.dwtt, { name: "dwtt" });
});
