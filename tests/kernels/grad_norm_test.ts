import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/grad_norm.ts";
import * as ref from "../../src/reference/grad_norm.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

async function normOnGpu(g: Gpu, grads: Float32Array[], maxNorm: number) {
  const ts = await Promise.all(grads.map((d) => createTensor(g, [d.length], "f32", { data: d })));
  const norm = await createTensor(g, [1]);
  const clipCoef = await createTensor(g, [1]);
  const partials = await createTensor(g, [gpu.gradNormPartialCount(g, ts)]);
  const d = await gpu.gradNorm(g, { norm, clipCoef, partials, grads: ts }, { maxNorm });
  await runDispatches(g, d);
  const out = {
    norm: (await readFloats(g, norm))[0],
    clipCoef: (await readFloats(g, clipCoef))[0],
    dispatches: d.length,
  };
  for (const t of [...ts, norm, clipCoef, partials]) t.destroy();
  return out;
}

// Shapes of a BERT layer's gradients (one 768x768 slice) plus odd and boundary sizes (16384 floats per
// first-stage workgroup on software adapters, 8192 on GPUs).
const SIZES = [768 * 768, 768, 3, 45 * 65, 8191, 8193, 16383, 16384, 16385, 1];

for (const kernels of ["software", "hardware"] as const) {
  for (const maxNorm of [1, 1e6, 0, Infinity]) {
    gpuTest(`gradNorm over ${SIZES.length} tensors, ${kernels} kernels, maxNorm = ${maxNorm}`, async () => {
      await withGpu({ kernels }, async (g) => {
        const rng = new Rng(7);
        const grads = SIZES.map((n) => rng.floats(n, -0.01, 0.01));
        const got = await normOnGpu(g, grads, maxNorm);
        const want = ref.gradNorm(grads, maxNorm);
        assertClose([got.norm], [want.norm], { atol: 0, rtol: 2e-6, name: "norm" });
        assertClose([got.clipCoef], [want.clipCoef], { atol: 0, rtol: 2e-6, name: "clipCoef" });
        if (maxNorm === 1) assert.ok(got.clipCoef < 1, `a norm of ${got.norm} > 1 is clipped`);
        else assert.equal(got.clipCoef, 1);
      });
    });
  }
}

gpuTest("gradNorm is bit-identical run to run and splits large gradients", async (g) => {
  const rng = new Rng(3);
  const grads = [rng.floats(70001), rng.floats(5)];
  const a = await normOnGpu(g, grads, 2);
  const b = await normOnGpu(g, grads, 2);
  assert.deepEqual(a, b);
  await withGpu({ maxBindingBytes: 1024 }, async (small) => {
    const c = await normOnGpu(small, [grads[0].subarray(0, 1027), grads[1]], 2);
    assert.equal(c.dispatches, 5 + 2 + 1); // 4 ranges + tail of the first, one vec4 + tail of the second, final
    const want = ref.gradNorm([grads[0].subarray(0, 1027), grads[1]], 2);
    assertClose([c.norm, c.clipCoef], [want.norm, want.clipCoef], { atol: 0, rtol: 2e-6 });
  });
});
