import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/activation.ts";
import * as ref from "../../src/reference/activation.ts";
import { prepareDispatch, runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import activationForwardWgsl from "../../shaders/activation_forward.wgsl" with { type: "text" };
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

gpuTest("WGSL erf4 is within 1.5e-7 of a high-precision erf on [-7, 7]", async (g) => {
  // The shader's own erf4, extracted verbatim, behind a test entry point.
  const start = activationForwardWgsl.indexOf("fn erf4");
  const end = activationForwardWgsl.indexOf("\n}\n", start) + 3;
  const code = activationForwardWgsl.slice(start, end) + `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < arrayLength(&inp)) { out[gid.x] = erf4(vec4<f32>(inp[gid.x])).x; }
}`;
  const kernel = await g.pipelines.get({ file: "erf_test.wgsl", code, bindings: ["read_write", "read"] });
  const n = 140001;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = -7 + i * 1e-4;
  const inp = await createTensor(g, [n], "f32", { data: x });
  const out = await createTensor(g, [n]);
  await runDispatches(g, [prepareDispatch(g, kernel, [out, inp], null, [Math.ceil(n / 64)])]);
  const got = await readFloats(g, out);
  const want = Array.from(x, (v) => ref.erf(v));
  assertClose(got, want, { atol: 1.5e-7, rtol: 0, name: "erf" });
  inp.destroy();
  out.destroy();
});

const TOL: Record<gpu.Activation, { atol: number; rtol: number }> = {
  gelu: { atol: 5e-7, rtol: 2e-6 },
  gelu_new: { atol: 5e-7, rtol: 2e-6 },
  tanh: { atol: 5e-7, rtol: 2e-6 },
  relu: { atol: 0, rtol: 1e-7 },
};

// WG = 256 vec4s = 1024 elements: 1023, 1024, 1025, 1026 (every tail length); an odd shape; the BERT-base FFN slice (T = 128, 4C = 3072) for GELU.
const CASES: [gpu.Activation, number][] = [];
for (const kind of ["gelu", "gelu_new", "tanh", "relu"] as const) {
  for (const n of [45 * 65, 1023, 1024, 1025, 1026]) CASES.push([kind, n]);
}
CASES.push(["gelu", 128 * 3072], ["gelu_new", 128 * 3072]);

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
