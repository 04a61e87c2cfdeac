import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/matmul.ts";
import * as ref from "../../src/reference/matmul.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { ShapeError } from "../../src/kernels/shapes.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

const SHAPES = [
  { M: 45, K: 65, N: 33, bias: true }, // odd
  { M: 63, K: 15, N: 63, bias: false }, // tile - 1
  { M: 64, K: 16, N: 64, bias: true }, // tile
  { M: 65, K: 17, N: 65, bias: true }, // tile + 1
  { M: 128, K: 768, N: 768, bias: true }, // BERT-base slice (T = 128, C = 768)
];

for (const s of SHAPES) {
  gpuTest(`matmul forward M=${s.M} K=${s.K} N=${s.N} bias=${s.bias}`, async (g) => {
    const rng = new Rng(s.M * 7 + s.K);
    const inp = rng.floats(s.M * s.K);
    const weight = rng.floats(s.N * s.K);
    const bias = s.bias ? rng.floats(s.N) : null;
    const tInp = await createTensor(g, [s.M, s.K], "f32", { data: inp });
    const tW = await createTensor(g, [s.N, s.K], "f32", { data: weight });
    const tB = bias ? await createTensor(g, [s.N], "f32", { data: bias }) : null;
    const out = await createTensor(g, [s.M, s.N]);
    const d = await gpu.matmulForward(g, { out, inp: tInp, weight: tW, bias: tB }, s);
    await runDispatches(g, [d]);
    const first = await readFloats(g, out);
    assertClose(first, ref.matmulForward(inp, weight, bias, s), { atol: 1e-5 * Math.sqrt(s.K), rtol: 1e-5 });
    await runDispatches(g, [d]);
    assert.deepEqual(await readFloats(g, out), first, "bit-identical on a second run");
  });
}

gpuTest("matmul forward rejects mismatched shapes", async (g) => {
  const a = await createTensor(g, [4, 3]);
  const w = await createTensor(g, [5, 2]);
  const o = await createTensor(g, [4, 5]);
  await assert.rejects(
    () => gpu.matmulForward(g, { out: o, inp: a, weight: w, bias: null }, { M: 4, K: 3, N: 5 }),
    ShapeError,
  );
});
