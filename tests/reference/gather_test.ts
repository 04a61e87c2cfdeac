/**
 * The copy-shaped references (first-token gather, row gather, residual add): their backward against finite
 * differences of their own forward, like every other CPU backward.
 */
import { NOT_GATHERED } from "../../src/kernels/gather_rows.ts";
import { firstTokenBackward, firstTokenForward } from "../../src/reference/first_token.ts";
import { gatherRowsBackward, gatherRowsForward } from "../../src/reference/gather_rows.ts";
import { residualBackward, residualForward } from "../../src/reference/residual.ts";
import { assertGradient, dot, f64 } from "../_util/finite_diff.ts";
import { Rng } from "../_util/rng.ts";

// The forwards take f32: a step of 1e-2 keeps the f32 rounding of x +- h far below the tolerance.
const FD = { h: 1e-2, atol: 1e-4, rtol: 1e-4 };
const f32 = (x: ArrayLike<number>) => Float32Array.from(x);

Deno.test("reference first-token backward matches finite differences", () => {
  const d = { B: 3, T: 5, C: 7 };
  const x = f64(new Rng(1).floats(d.B * d.T * d.C));
  const g = new Rng(2).floats(d.B * d.C);
  const dinp = firstTokenBackward(g, d);
  assertGradient((xs) => dot(firstTokenForward(f32(xs), d), g), x, dinp, { ...FD, name: "dinp" });
});

Deno.test("reference row-gather backward matches finite differences (rows out of order, some not gathered)", () => {
  const d = { P: 4, N: 9, C: 5 };
  const rows = [7, 2, 5, 0];
  const slot = new Array(d.N).fill(NOT_GATHERED);
  rows.forEach((r, p) => (slot[r] = p));
  const x = f64(new Rng(3).floats(d.N * d.C));
  const g = new Rng(4).floats(d.P * d.C);
  const dinp = gatherRowsBackward(g, slot, d);
  assertGradient((xs) => dot(gatherRowsForward(f32(xs), rows, d), g), x, dinp, { ...FD, name: "dinp" });
});

Deno.test("reference residual backward matches finite differences and accumulates", () => {
  const n = 23;
  const a = f64(new Rng(5).floats(n)), b = f64(new Rng(6).floats(n));
  const g = new Rng(7).floats(n);
  // Start from non-zero gradients: the backward adds into them.
  const start = new Rng(8).floats(n);
  const da = Float32Array.from(start), db = Float32Array.from(start);
  residualBackward(da, db, g);
  const added = (d: Float32Array) => d.map((v, i) => v - start[i]);
  assertGradient((xs) => dot(residualForward(f32(xs), f32(b)), g), a, added(da), { ...FD, name: "dinp1" });
  assertGradient((xs) => dot(residualForward(f32(a), f32(xs)), g), b, added(db), { ...FD, name: "dinp2" });
});
