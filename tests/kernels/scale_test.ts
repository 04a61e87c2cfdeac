import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/scale.ts";
import * as ref from "../../src/reference/scale.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { watchBindings } from "../_util/bindings.ts";
import { Rng } from "../_util/rng.ts";

for (const n of [45 * 65, 255, 256, 257, 128 * 768]) {
  gpuTest(`scale in place, N = ${n}`, async (g) => {
    const x = new Rng(n).floats(n);
    const t = await createTensor(g, [n], "f32", { data: x });
    await runDispatches(g, [await gpu.scale(g, { x: t }, { s: 0.25 })]);
    ref.scale(x, 0.25);
    assertClose(await readFloats(g, t), x, { atol: 0, rtol: 0 });
    t.destroy();
  });
}

// Above the binding limit (an LM head's dlogits): blocks of whole 256-byte groups, the last one partial.
gpuTest("scaleSplit above the binding limit: blocks of 1024 elements under a 4 KiB limit", async () => {
  await withGpu({ maxBindingBytes: 4096 }, async (g) => {
    const n = 2500;
    const x = new Rng(n).floats(n);
    const t = await createTensor(g, [n], "f32", { data: x });
    const watch = watchBindings(g);
    const ds = await gpu.scaleSplit(g, { x: t }, { s: -0.5 });
    assert.equal(ds.length, 3);
    await runDispatches(g, ds);
    assert.ok(watch.max <= g.maxBindingBytes, `largest binding ${watch.max}`);
    ref.scale(x, -0.5);
    assertClose(await readFloats(g, t), x, { atol: 0, rtol: 0 });
  });
});
