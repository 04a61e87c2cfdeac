import * as gpu from "../../src/kernels/gather_rows.ts";
import * as ref from "../../src/reference/gather_rows.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

// WG = 256 over P*C (forward) and N*C (backward): odd shape, boundaries, a BERT-base slice (15% of 2 x 128).
for (
  const d of [
    { P: 5, N: 13, C: 7 },
    { P: 1, N: 255, C: 1 },
    { P: 2, N: 2, C: 128 },
    { P: 257, N: 300, C: 1 },
    {
      P: 40,
      N: 256,
      C: 768,
    },
  ]
) {
  gpuTest(`gather rows forward and backward P=${d.P} N=${d.N} C=${d.C}`, async (g) => {
    const rng = new Rng(d.P * 31 + d.N);
    // P distinct rows in a shuffled order, and their inverse.
    const perm = Array.from({ length: d.N }, (_, i) => i);
    for (let i = d.N - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const rows = Uint32Array.from(perm.slice(0, d.P));
    const slot = new Uint32Array(d.N).fill(gpu.NOT_GATHERED);
    rows.forEach((r, p) => (slot[r] = p));
    const inp = rng.floats(d.N * d.C);
    const dout = rng.floats(d.P * d.C);
    const tInp = await createTensor(g, [d.N, d.C], "f32", { data: inp });
    const tRows = await createTensor(g, [d.P], "u32", { data: rows });
    const tSlot = await createTensor(g, [d.N], "u32", { data: slot });
    const tOut = await createTensor(g, [d.P, d.C]);
    const tDout = await createTensor(g, [d.P, d.C], "f32", { data: dout });
    // Pre-fill dinp with garbage: the backward must write every element.
    const tDinp = await createTensor(g, [d.N, d.C], "f32", { data: rng.floats(d.N * d.C) });
    await runDispatches(g, [
      await gpu.gatherRowsForward(g, { out: tOut, inp: tInp, rows: tRows }, d),
      await gpu.gatherRowsBackward(g, { dinp: tDinp, dout: tDout, slot: tSlot }, d),
    ]);
    assertClose(await readFloats(g, tOut), ref.gatherRowsForward(inp, rows, d), {
      atol: 0,
      rtol: 0,
      name: "out",
    });
    assertClose(await readFloats(g, tDinp), ref.gatherRowsBackward(dout, slot, d), {
      atol: 0,
      rtol: 0,
      name: "dinp",
    });
    for (const t of [tInp, tRows, tSlot, tOut, tDout, tDinp]) t.destroy();
  });
}
