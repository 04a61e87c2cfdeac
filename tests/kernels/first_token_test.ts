import * as gpu from "../../src/kernels/first_token.ts";
import * as ref from "../../src/reference/first_token.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

// WG = 256 over B*C (forward) and B*T*C (backward): odd shape, boundaries, a BERT-base slice.
for (
  const d of [{ B: 3, T: 7, C: 13 }, { B: 1, T: 1, C: 255 }, { B: 2, T: 2, C: 128 }, { B: 1, T: 257, C: 1 }, {
    B: 2,
    T: 128,
    C: 768,
  }]
) {
  gpuTest(`first token forward and backward B=${d.B} T=${d.T} C=${d.C}`, async (g) => {
    const rng = new Rng(d.B * 31 + d.T);
    const inp = rng.floats(d.B * d.T * d.C);
    const dout = rng.floats(d.B * d.C);
    const tInp = await createTensor(g, [d.B, d.T, d.C], "f32", { data: inp });
    const tOut = await createTensor(g, [d.B, d.C]);
    const tDout = await createTensor(g, [d.B, d.C], "f32", { data: dout });
    // Pre-fill dinp with garbage: the backward must write every element.
    const tDinp = await createTensor(g, [d.B, d.T, d.C], "f32", { data: rng.floats(d.B * d.T * d.C) });
    await runDispatches(g, [
      await gpu.firstTokenForward(g, { out: tOut, inp: tInp }, d),
      await gpu.firstTokenBackward(g, { dinp: tDinp, dout: tDout }, d),
    ]);
    assertClose(await readFloats(g, tOut), ref.firstTokenForward(inp, d), { atol: 0, rtol: 0, name: "out" });
    assertClose(await readFloats(g, tDinp), ref.firstTokenBackward(dout, d), {
      atol: 0,
      rtol: 0,
      name: "dinp",
    });
    for (const t of [tInp, tOut, tDout, tDinp]) t.destroy();
  });
}
