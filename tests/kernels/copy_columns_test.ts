import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/copy_columns.ts";
import * as ref from "../../src/reference/copy_columns.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, type Tensor } from "../../src/gpu/tensor.ts";
import { ShapeError } from "../../src/kernels/shapes.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

type Dims = gpu.CopyColumnsDims;

/** The bits of f32 values: the copy is exact, also for NaN payloads, subnormals and -0. */
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function inBlock(i: number, stride: number, offset: number, d: Dims): boolean {
  return Math.floor(i / stride) < d.rows && i % stride >= offset && i % stride < offset + d.width;
}

// WG = 256 over rows * width: an odd shape both ways, 255, 256, 257, and the BERT-base slice (M = 2 x 128,
// C = 768): the key/value projection (M, 2C) into columns [C, 3C) of the fused (M, 3C) q|k|v.
const CASES: Dims[] = [
  { rows: 7, width: 5, outStride: 13, outOffset: 3, inpStride: 5, inpOffset: 0 },
  { rows: 7, width: 5, outStride: 5, outOffset: 0, inpStride: 13, inpOffset: 8 },
  { rows: 15, width: 17, outStride: 20, outOffset: 2, inpStride: 19, inpOffset: 1 },
  { rows: 16, width: 16, outStride: 48, outOffset: 16, inpStride: 32, inpOffset: 0 },
  { rows: 257, width: 1, outStride: 3, outOffset: 2, inpStride: 2, inpOffset: 1 },
  { rows: 256, width: 1536, outStride: 2304, outOffset: 768, inpStride: 1536, inpOffset: 0 },
];

for (const d of CASES) {
  const name =
    `rows ${d.rows} width ${d.width} out ${d.outStride}+${d.outOffset} inp ${d.inpStride}+${d.inpOffset}`;
  gpuTest(`copyColumns ${name}`, async (g) => {
    const rng = new Rng(d.rows * 31 + d.width);
    const nOut = d.rows * d.outStride;
    const inp = rng.floats(d.rows * d.inpStride);
    // out starts with random values: the copy must leave every element outside the block as it was.
    const before = rng.floats(nOut);
    const tInp = await createTensor(g, [d.rows, d.inpStride], "f32", { data: inp });
    const tOut = await createTensor(g, [d.rows, d.outStride], "f32", { data: before });
    const dispatch = await gpu.copyColumns(g, { out: tOut, inp: tInp }, d);
    await runDispatches(g, [dispatch]);
    const got = await readFloats(g, tOut);
    const want = Float32Array.from(before);
    ref.copyColumns(want, inp, d);
    assert.deepEqual(bits(got), bits(want));
    for (let i = 0; i < nOut; i++) {
      if (!inBlock(i, d.outStride, d.outOffset, d)) assert.equal(got[i], before[i], `out[${i}] was changed`);
    }
    assert.deepEqual(bits(await readFloats(g, tInp)), bits(inp), "inp was changed");
    // Determinism: the same dispatch again gives bit-identical results.
    await runDispatches(g, [dispatch]);
    assert.deepEqual(bits(await readFloats(g, tOut)), bits(got));
    dispatch.destroy();
    for (const t of [tInp, tOut]) t.destroy();
  });
}

gpuTest(
  "copyColumns assembles a fused (M, 3C) q|k|v from q (M, C) and kv (M, 2C), and splits it back",
  async (g) => {
    const [M, C] = [6, 8];
    const rng = new Rng(68);
    const q = rng.floats(M * C);
    const kv = rng.floats(M * 2 * C);
    // Special values survive as bits: a NaN with a payload, a subnormal, -0.
    new Uint32Array(q.buffer).set([0x7fc00123, 0x00000123, 0x80000000]);
    const tq = await createTensor(g, [M, C], "f32", { data: q });
    const tkv = await createTensor(g, [M, 2 * C], "f32", { data: kv });
    const qkv = await createTensor(g, [M, 3 * C], "f32", { data: rng.floats(M * 3 * C) });
    const q2 = await createTensor(g, [M, C], "f32", { data: rng.floats(M * C) });
    const kv2 = await createTensor(g, [M, 2 * C], "f32", { data: rng.floats(M * 2 * C) });
    const intoQ = { rows: M, width: C, outStride: 3 * C, outOffset: 0, inpStride: C, inpOffset: 0 };
    const intoKv = { rows: M, width: 2 * C, outStride: 3 * C, outOffset: C, inpStride: 2 * C, inpOffset: 0 };
    const outOfQ = { rows: M, width: C, outStride: C, outOffset: 0, inpStride: 3 * C, inpOffset: 0 };
    const outOfKv = { rows: M, width: 2 * C, outStride: 2 * C, outOffset: 0, inpStride: 3 * C, inpOffset: C };
    await runDispatches(g, [
      await gpu.copyColumns(g, { out: qkv, inp: tq }, intoQ),
      await gpu.copyColumns(g, { out: qkv, inp: tkv }, intoKv),
    ]);
    const fused = await readFloats(g, qkv);
    const want = new Float32Array(M * 3 * C);
    for (let m = 0; m < M; m++) {
      want.set(q.subarray(m * C, (m + 1) * C), m * 3 * C);
      want.set(kv.subarray(m * 2 * C, (m + 1) * 2 * C), m * 3 * C + C);
    }
    assert.deepEqual(bits(fused), bits(want));
    await runDispatches(g, [
      await gpu.copyColumns(g, { out: q2, inp: qkv }, outOfQ),
      await gpu.copyColumns(g, { out: kv2, inp: qkv }, outOfKv),
    ]);
    assert.deepEqual(bits(await readFloats(g, q2)), bits(q));
    assert.deepEqual(bits(await readFloats(g, kv2)), bits(kv));
    for (const t of [tq, tkv, qkv, q2, kv2]) t.destroy();
  },
);

async function rejects(p: () => Promise<unknown>, cls: typeof ShapeError | typeof RangeError, msg: RegExp) {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls && e.name === cls.name, `${e.name}: ${e.message}, expected a ${cls.name}`);
    assert.match(e.message, msg);
    assert.match(e.message, /^copyColumns: /);
    return true;
  });
}

gpuTest("copyColumns rejects bad arguments, naming the argument and value", async (g) => {
  const inp = await createTensor(g, [4, 6]);
  const out = await createTensor(g, [4, 9]);
  const ok: Dims = { rows: 4, width: 6, outStride: 9, outOffset: 3, inpStride: 6, inpOffset: 0 };
  const call = (d: Partial<Dims>, t: { out: Tensor; inp: Tensor } = { out, inp }) => () =>
    gpu.copyColumns(g, t, { ...ok, ...d });
  (await call({})()).destroy();
  await rejects(call({ rows: 0 }), RangeError, /'rows' is 0, expected an integer >= 1/);
  await rejects(call({ width: 2.5 }), RangeError, /'width' is 2.5/);
  await rejects(call({ outOffset: -1 }), RangeError, /'outOffset' is -1, expected an integer >= 0/);
  await rejects(call({ inpStride: NaN }), RangeError, /'inpStride' is NaN/);
  await rejects(call({ outOffset: 4 }), RangeError, /outOffset \+ width = 4 \+ 6 exceeds outStride = 9/);
  await rejects(call({ inpOffset: 1 }), RangeError, /inpOffset \+ width = 1 \+ 6 exceeds inpStride = 6/);
  await rejects(
    call({ rows: 5 }),
    ShapeError,
    /'out' has shape \[4,9\] \(36 elements\), expected at least .* = 45/,
  );
  await rejects(
    call({ outStride: 8, outOffset: 2 }, { out, inp: inp.view([23]) }),
    ShapeError,
    /'inp' .* = 24/,
  );
  await rejects(call({ outStride: 6, outOffset: 0 }, { out: inp, inp }), ShapeError, /share one GPU buffer/);
  const u = await createTensor(g, [4, 6], "u32");
  await rejects(call({}, { out, inp: u }), ShapeError, /'out' is f32, 'inp' is u32/);
  for (const t of [inp, out, u]) t.destroy();
  // Tensors are bound whole: one above the binding limit is an error, not a wrong copy.
  await withGpu({ maxBindingBytes: 1024 }, async (small: Gpu) => {
    const big = await createTensor(small, [64, 8]);
    const src = await createTensor(small, [64, 4]);
    const d = { rows: 64, width: 4, outStride: 8, outOffset: 4, inpStride: 4, inpOffset: 0 };
    await rejects(
      () => gpu.copyColumns(small, { out: big, inp: src }, d),
      ShapeError,
      /'out' \[64,8\] is 2048 bytes, above the binding limit gpu\.maxBindingBytes = 1024/,
    );
  });
});
