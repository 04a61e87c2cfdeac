import * as gpu from "../../src/kernels/residual.ts";
import * as ref from "../../src/reference/residual.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

// WG = 256: boundaries 255, 256, 257; an odd shape; a BERT-base slice (T = 128, C = 768).
for (const n of [45 * 65, 255, 256, 257, 128 * 768]) {
  gpuTest(`residual forward and backward, N = ${n}`, async (g) => {
    const rng = new Rng(n);
    const a = rng.floats(n);
    const b = rng.floats(n);
    const dout = rng.floats(n);
    const d1 = rng.floats(n);
    const d2 = rng.floats(n);
    const ta = await createTensor(g, [n], "f32", { data: a });
    const tb = await createTensor(g, [n], "f32", { data: b });
    const out = await createTensor(g, [n]);
    const tdout = await createTensor(g, [n], "f32", { data: dout });
    const td1 = await createTensor(g, [n], "f32", { data: d1 });
    const td2 = await createTensor(g, [n], "f32", { data: d2 });
    await runDispatches(g, [
      await gpu.residualForward(g, { out, inp1: ta, inp2: tb }),
      await gpu.residualBackward(g, { dinp1: td1, dinp2: td2, dout: tdout }),
    ]);
    assertClose(await readFloats(g, out), ref.residualForward(a, b), { atol: 0, rtol: 0, name: "out" });
    ref.residualBackward(d1, d2, dout);
    assertClose(await readFloats(g, td1), d1, { atol: 0, rtol: 0, name: "dinp1" });
    assertClose(await readFloats(g, td2), d2, { atol: 0, rtol: 0, name: "dinp2" });
    for (const t of [ta, tb, out, tdout, td1, td2]) t.destroy();
  });
}
