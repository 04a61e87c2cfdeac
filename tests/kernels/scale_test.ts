import * as gpu from "../../src/kernels/scale.ts";
import * as ref from "../../src/reference/scale.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
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
