import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/softmax.ts";
import * as ref from "../../src/reference/softmax.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

// WG = 64 rows per workgroup: boundaries 63, 64, 65; an odd shape; a BERT-base slice (12 heads x 128 x 128);
// the vec4 kernels where cols % 4 = 0 (cols = 4, 8, 128) and the scalar ones forced there too.
// The GPUs' `lanes` layout: 1, 2, 8 and 32 invocations per row (cols 4, 8, 36, 132: 33 vec4s over 32 lanes),
// rows not a multiple of a workgroup's rows.
const SHAPES: { rows: number; cols: number; scalar?: boolean; layout?: "invocation" | "lanes" }[] = [
  { rows: 63, cols: 4, layout: "lanes" },
  { rows: 65, cols: 8, layout: "lanes" },
  { rows: 45, cols: 36, layout: "lanes" },
  { rows: 33, cols: 132, layout: "lanes" },
  { rows: 12 * 128, cols: 128, layout: "lanes" },
  { rows: 12 * 128, cols: 128, layout: "invocation" },
  { rows: 45, cols: 65 },
  { rows: 63, cols: 7 },
  { rows: 64, cols: 1 },
  { rows: 63, cols: 4 },
  { rows: 64, cols: 8 },
  { rows: 65, cols: 128 },
  { rows: 65, cols: 128, scalar: true },
  { rows: 12 * 128, cols: 128 },
  { rows: 12 * 128, cols: 128, scalar: true },
];

for (const d of SHAPES) {
  const kind = d.scalar || d.cols % 4 !== 0 ? "scalar" : `vec4${d.layout ? `, ${d.layout}` : ""}`;
  gpuTest(`softmax forward and backward (${kind}) rows=${d.rows} cols=${d.cols}`, async (g) => {
    const rng = new Rng(d.rows * 3 + d.cols);
    const n = d.rows * d.cols;
    // Large logits (up to +-60) check the max subtraction: exp(60) alone would be fine, exp(90) would not.
    const inp = rng.floats(n, -60, 60);
    const dout = rng.floats(n);
    const tInp = await createTensor(g, [d.rows, d.cols], "f32", { data: inp });
    const tDout = await createTensor(g, [d.rows, d.cols], "f32", { data: dout });
    const out = await createTensor(g, [d.rows, d.cols]);
    const dinp = await createTensor(g, [d.rows, d.cols]);
    const ds = [
      await gpu.softmaxForward(g, { out, inp: tInp }, d),
      await gpu.softmaxBackward(g, { dinp, dout: tDout, out }, d),
    ];
    if (d.layout) {
      const lanes = d.layout === "lanes";
      assert.equal(ds[0].kernel.name.includes("LANES="), lanes, ds[0].kernel.name);
      assert.equal(ds[1].kernel.name.includes("LANES="), lanes, ds[1].kernel.name);
    }
    await runDispatches(g, ds);
    const o = await readFloats(g, out);
    const di = await readFloats(g, dinp);
    assertClose(o, ref.softmaxForward(inp, d), { atol: 1e-7, rtol: 1e-5, name: "out" });
    assertClose(di, ref.softmaxBackward(dout, o, d), { atol: 1e-6, rtol: 1e-4, name: "dinp" });
    await runDispatches(g, ds);
    assert.deepEqual(await readFloats(g, out), o, "out bit-identical on a second run");
    assert.deepEqual(await readFloats(g, dinp), di, "dinp bit-identical on a second run");
    for (const t of [tInp, tDout, out, dinp]) t.destroy();
  });
}

Deno.test("softmax reference backward matches finite differences", () => {
  const d = { rows: 3, cols: 5 };
  const rng = new Rng(9);
  const inp = Float64Array.from(rng.floats(15, -3, 3));
  const w = rng.floats(15);
  const loss = (x: Float64Array) => ref.softmaxForward(x, d).reduce((s, v, i) => s + v * w[i], 0);
  const h = 1e-6;
  const num = inp.map((_, i) => {
    const a = inp.slice();
    const b = inp.slice();
    a[i] += h;
    b[i] -= h;
    return (loss(a) - loss(b)) / (2 * h);
  });
  assertClose(ref.softmaxBackward(w, ref.softmaxForward(inp, d), d), num, { atol: 1e-8, rtol: 1e-6 });
});

gpuTest("softmax rejects a wrong size", async (g) => {
  const a = await createTensor(g, [4, 3]);
  const b = await createTensor(g, [4, 4]);
  await assert.rejects(() => gpu.softmaxForward(g, { out: b, inp: a }, { rows: 4, cols: 4 }), /inp/);
});
