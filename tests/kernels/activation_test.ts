import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/activation.ts";
import * as ref from "../../src/reference/activation.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { prepareDispatch, runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import activationForwardWgsl from "../../shaders/activation_forward.wgsl" with { type: "text" };
import activationBackwardWgsl from "../../shaders/activation_backward.wgsl" with { type: "text" };
import { assertClose } from "../_util/assert_close.ts";
import { assertGradient, dot, f64 } from "../_util/finite_diff.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

/** Runs the shader function `fn` (extracted verbatim from `source`, vec4 in and out) on each x, component x. */
async function shaderFunction(g: Gpu, source: string, fn: string, x: Float32Array): Promise<Float32Array> {
  const start = source.indexOf(`fn ${fn}(`);
  const end = source.indexOf("\n}\n", start) + 3;
  const code = source.slice(start, end) + `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < arrayLength(&inp)) { out[gid.x] = ${fn}(vec4<f32>(inp[gid.x])).x; }
}`;
  const kernel = await g.pipelines.get({ file: `${fn}_test.wgsl`, code, bindings: ["read_write", "read"] });
  const inp = await createTensor(g, [x.length], "f32", { data: x });
  const out = await createTensor(g, [x.length]);
  try {
    await runDispatches(g, [prepareDispatch(g, kernel, [out, inp], null, [Math.ceil(x.length / 64)])]);
    return await readFloats(g, out);
  } finally {
    inp.destroy();
    out.destroy();
  }
}

const grid = (lo: number, hi: number, step: number) =>
  Float32Array.from({ length: Math.round((hi - lo) / step) + 1 }, (_, i) => lo + i * step);

gpuTest("WGSL erf4 (GELU backward) is within 1.5e-7 of a high-precision erf on [-7, 7]", async (g) => {
  const x = grid(-7, 7, 1e-4);
  const got = await shaderFunction(g, activationBackwardWgsl, "erf4", x);
  assertClose(got, Array.from(x, (v) => ref.erf(v)), { atol: 1.5e-7, rtol: 0, name: "erf" });
});

gpuTest(
  "WGSL cdf4 (GELU forward) is within 2.5e-7 absolute and 4e-6 relative of the normal CDF",
  async (g) => {
    // On [-5.5, 7]: the f64 reference 0.5 * (1 + erf(x / sqrt 2)) keeps ~1e-16 absolute, below x = -5.5
    // (Phi < 2e-8) no longer 1e-8 relative. The relative error grows with x^2 (the f32 rounding of exp's
    // argument), to 3e-6 at x = -5.5; where Phi is small it stays relative, unlike 0.5 * (1 + erf).
    const x = grid(-5.5, 7, 1e-4);
    const got = await shaderFunction(g, activationForwardWgsl, "cdf4", x);
    const want = Array.from(x, (v) => 0.5 * (1 + ref.erf(v / Math.SQRT2)));
    assertClose(got, want, { atol: 2.5e-7, rtol: 0, name: "Phi, absolute" });
    assertClose(got, want, { atol: 0, rtol: 4e-6, name: "Phi, relative" });
  },
);

const TOL: Record<gpu.Activation, { atol: number; rtol: number }> = {
  gelu: { atol: 5e-7, rtol: 2e-6 },
  gelu_new: { atol: 5e-7, rtol: 2e-6 },
  tanh: { atol: 5e-7, rtol: 2e-6 },
  relu: { atol: 0, rtol: 1e-7 },
  silu: { atol: 5e-7, rtol: 2e-6 },
};

// WG = 256 vec4s = 1024 elements: 1023, 1024, 1025, 1026 (every tail length); an odd shape; the BERT-base FFN slice (T = 128, 4C = 3072) for GELU.
// For SiLU the Marian / OPUS-MT FFN slice (T = 128, d_ff = 2048).
const CASES: [gpu.Activation, number][] = [];
for (const kind of ["gelu", "gelu_new", "tanh", "relu", "silu"] as const) {
  for (const n of [45 * 65, 1023, 1024, 1025, 1026]) CASES.push([kind, n]);
}
CASES.push(["gelu", 128 * 3072], ["gelu_new", 128 * 3072], ["silu", 128 * 2048]);

for (const [kind, n] of CASES) {
  gpuTest(`activation ${kind} forward and backward, N = ${n}`, async (g) => {
    const rng = new Rng(n + kind.length);
    const x = rng.floats(n, -6, 6);
    x[0] = 0;
    const dout = rng.floats(n);
    const acc0 = rng.floats(n);
    const inp = await createTensor(g, [n], "f32", { data: x });
    const out = await createTensor(g, [n]);
    const tdout = await createTensor(g, [n], "f32", { data: dout });
    const dinp = await createTensor(g, [n]);
    const dacc = await createTensor(g, [n], "f32", { data: acc0 });
    const ds = [
      await gpu.activationForward(g, { out, inp }, { kind }),
      await gpu.activationBackward(g, { dinp, dout: tdout, inp }, { kind }),
      await gpu.activationBackward(g, { dinp: dacc, dout: tdout, inp }, { kind, accumulate: true }),
    ];
    await runDispatches(g, ds);
    const tol = TOL[kind];
    const gotOut = await readFloats(g, out);
    const gotDinp = await readFloats(g, dinp);
    assertClose(gotOut, ref.activationForward(kind, x), { ...tol, name: `${kind} out` });
    const want = new Float64Array(n);
    ref.activationBackward(kind, want, { dout, inp: x });
    assertClose(gotDinp, want, { ...tol, name: `${kind} dinp` });
    const wantAcc = Float64Array.from(acc0);
    ref.activationBackward(kind, wantAcc, { dout, inp: x }, true);
    assertClose(await readFloats(g, dacc), wantAcc, { ...tol, name: `${kind} dinp accumulated` });
    // Determinism: the same dispatches again give bit-identical results.
    await runDispatches(g, ds.slice(0, 2));
    assert.deepEqual(await readFloats(g, out), gotOut);
    assert.deepEqual(await readFloats(g, dinp), gotDinp);
    for (const t of [inp, out, tdout, dinp, dacc]) t.destroy();
  });
}

gpuTest("activation silu stays finite and exact at large |x| (the clamp of exp's argument)", async (g) => {
  const x = Float32Array.from([-3e38, -1e30, -1e4, -100, -88, -80, -79, 79, 80, 88, 100, 1e4, 1e30, 3e38]);
  const n = x.length;
  const dout = new Float32Array(n).fill(1);
  const inp = await createTensor(g, [n], "f32", { data: x });
  const out = await createTensor(g, [n]);
  const tdout = await createTensor(g, [n], "f32", { data: dout });
  const dinp = await createTensor(g, [n]);
  await runDispatches(g, [
    await gpu.activationForward(g, { out, inp }, { kind: "silu" }),
    await gpu.activationBackward(g, { dinp, dout: tdout, inp }, { kind: "silu" }),
  ]);
  const want = new Float64Array(n);
  ref.activationBackward("silu", want, { dout, inp: x });
  // f32 relative precision where silu(x) ~ x and f'(x) ~ 1; below -80 both are within 1.5e-33 of 0.
  assertClose(await readFloats(g, out), ref.activationForward("silu", x), {
    atol: 2e-33,
    rtol: 2e-7,
    name: "silu out",
  });
  assertClose(await readFloats(g, dinp), want, { atol: 2e-33, rtol: 2e-7, name: "silu dinp" });
  for (const t of [inp, out, tdout, dinp]) t.destroy();
});

// The finite-difference check of the other kinds' CPU backward is in tests/reference/activation_test.ts.
Deno.test("reference silu backward matches finite differences", () => {
  const rng = new Rng(7);
  const x = f64(rng.floats(64, -8, 8));
  x.set([0, -1.2785, 40, -40]); // 0, near f'(x) = 0, the flat tails
  const g = f64(rng.floats(64));
  const dinp = new Float64Array(64);
  ref.activationBackward("silu", dinp, { dout: g, inp: x });
  assertGradient((xs) => dot(ref.activationForward("silu", xs), g), x, dinp, { h: 1e-6, name: "dsilu" });
  const acc = new Float64Array(64).fill(1);
  ref.activationBackward("silu", acc, { dout: g, inp: x }, true);
  assertClose(acc, dinp.map((v) => 1 + v), { atol: 1e-12, rtol: 0, name: "dsilu accumulated" });
});
