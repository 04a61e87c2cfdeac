import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/reduce.ts";
import * as ref from "../../src/reference/reduce.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

async function sumOnGpu(g: Gpu, data: Float32Array): Promise<{ value: number; dispatches: number }> {
  const inp = await createTensor(g, [data.length], "f32", { data });
  const out = await createTensor(g, [1]);
  const partials = await createTensor(g, [gpu.reducePartialCount(g, [inp.size])]);
  const d = await gpu.reduceSum(g, { out, partials, inp });
  await runDispatches(g, d);
  const value = (await readFloats(g, out))[0];
  for (const t of [inp, out, partials]) t.destroy();
  return { value, dispatches: d.length };
}

// One first-stage workgroup adds 16384 floats on software adapters and 8192 on GPUs: both shapes at both
// boundaries (N - 1, N, N + 1), odd shapes and a BERT-base slice.
for (const kernels of ["software", "hardware"] as const) {
  for (const n of [1, 3, 45 * 65, 8191, 8192, 8193, 16383, 16384, 16385, 128 * 768]) {
    gpuTest(`reduceSum, ${kernels} kernels, N = ${n}`, async () => {
      await withGpu({ kernels }, async (g) => {
        const data = new Rng(n).floats(n, 0.5, 1.5);
        const { value } = await sumOnGpu(g, data);
        assertClose([value], [ref.reduceSum(data)], { atol: 0, rtol: 2e-6, name: "sum" });
      });
    });
  }
}

gpuTest(
  "reduceSum's first stage: 16384 floats per workgroup on software adapters, 8192 on GPUs",
  async () => {
    for (const [kernels, per] of [["software", 16384], ["hardware", 8192]] as const) {
      await withGpu({ kernels }, (g) => {
        assert.equal(gpu.reducePartialCount(g, [per]), 1);
        assert.equal(gpu.reducePartialCount(g, [per + 4]), 2);
        assert.equal(gpu.reducePartialCount(g, [per + 1]), 2, "the body and the tail");
        return Promise.resolve();
      });
    }
  },
);

gpuTest("reduceSum is bit-identical run to run, with and without a split binding", async (g) => {
  const data = new Rng(9).floats(100003);
  const a = await sumOnGpu(g, data);
  const b = await sumOnGpu(g, data);
  assert.equal(a.value, b.value);
  assertClose([a.value], [ref.reduceSum(data)], { atol: 2e-4, rtol: 0, name: "sum of signed values" });
  await withGpu({ maxBindingBytes: 4096 }, async (small) => {
    const c = await sumOnGpu(small, data.subarray(0, 3 * 1024 + 3));
    assert.equal(c.dispatches, 3 + 1 + 1); // three 1024-float ranges, the tail, the final pass
    assertClose([c.value], [ref.reduceSum(data.subarray(0, 3 * 1024 + 3))], { atol: 1e-4, rtol: 0 });
  });
});

for (const [R, L] of [[45, 65], [3, 127], [2, 128], [2, 129], [128, 768]]) {
  gpuTest(`reduceRowSum, R = ${R}, L = ${L}`, async (g) => {
    const data = new Rng(R * L).floats(R * L);
    const inp = await createTensor(g, [R, L], "f32", { data });
    const out = await createTensor(g, [R]);
    await runDispatches(g, await gpu.reduceRowSum(g, { out, inp }, { R, L }));
    assertClose(await readFloats(g, out), ref.reduceRowSum(data, R, L), {
      atol: 1e-5,
      rtol: 1e-5,
      name: "rows",
    });
    inp.destroy();
    out.destroy();
  });
}

gpuTest("reduceRowSum splits rows above the binding limit at aligned rows", async () => {
  await withGpu({ maxBindingBytes: 2048 }, async (small) => {
    const R = 50, L = 33; // 132-byte rows: ranges of 64 rows would exceed 2048 bytes, so 0 fit: use L = 3
    await assert.rejects(async () => {
      const inp = await createTensor(small, [R, L]);
      const out = await createTensor(small, [R]);
      await gpu.reduceRowSum(small, { out, inp }, { R, L });
    }, /binding limit/);
    const R2 = 100, L2 = 24; // 96-byte rows: aligned groups of 8 rows, 16 rows per 2048-byte range
    const data = new Rng(5).floats(R2 * L2);
    const inp = await createTensor(small, [R2, L2], "f32", { data });
    const out = await createTensor(small, [R2]);
    const d = await gpu.reduceRowSum(small, { out, inp }, { R: R2, L: L2 });
    assert.equal(d.length, 7);
    await runDispatches(small, d);
    assertClose(await readFloats(small, out), ref.reduceRowSum(data, R2, L2), { atol: 1e-5, rtol: 1e-5 });
  });
});
