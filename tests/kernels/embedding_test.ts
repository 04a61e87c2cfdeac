import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/embedding.ts";
import * as ref from "../../src/reference/embedding.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { embeddingBuckets, positionIds } from "../../src/kernels/embedding_ids.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

interface Case {
  B: number;
  T: number;
  C: number;
  V: number;
  P: number;
  roberta: boolean;
}

/** Runs forward and backward on `g`; checks against the reference; returns the GPU outputs. */
async function check(g: Gpu, s: Case, layout?: "bucket" | "lanes"): Promise<Float32Array[]> {
  const { B, T, C, V, P } = s;
  const N = B * T;
  const rng = new Rng(N * 7 + C + V);
  const padId = 1;
  // Repeated ids (a small range plus pads) so that buckets hold several positions.
  const ids = Uint32Array.from(
    { length: N },
    (_, i) => (i % T) > T - 3 ? padId : rng.int(Math.min(V, 23)) * 3 % V,
  );
  const pos = positionIds(ids, { B, T }, { roberta: s.roberta, padId });
  const types = Uint32Array.from({ length: N }, (_, i) => (i % T) > T / 2 ? 1 : 0);
  const wte = rng.floats(V * C), wpe = rng.floats(P * C), wtt = rng.floats(2 * C);
  const dout = rng.floats(N * C);
  const dwte0 = rng.floats(V * C), dwpe0 = rng.floats(P * C), dwtt0 = rng.floats(2 * C);
  const f32 = (shape: number[], data?: Float32Array) => createTensor(g, shape, "f32", { data });
  const u32 = (data: Uint32Array) => createTensor(g, [data.length], "u32", { data });
  const t = {
    out: await f32([N, C]),
    ids: await u32(ids),
    posIds: await u32(pos),
    typeIds: await u32(types),
    wte: await f32([V, C], wte),
    wpe: await f32([P, C], wpe),
    wtt: await f32([2, C], wtt),
  };
  const b = {
    dwte: await f32([V, C], dwte0),
    dwpe: await f32([P, C], dwpe0),
    dwtt: await f32([2, C], dwtt0),
    dout: await f32([N, C], dout),
    wteBuckets: await u32(embeddingBuckets(ids, V)),
    wpeBuckets: await u32(embeddingBuckets(pos, P)),
    wttBuckets: await u32(embeddingBuckets(types, 2)),
  };
  const fwd = await gpu.embeddingForward(g, t, { N, C });
  const bwd = await gpu.embeddingBackward(g, b, { N, C, layout });
  await runDispatches(g, [...fwd, ...bwd]);
  const out = await readFloats(g, t.out);
  const ix = { ids, posIds: pos, typeIds: types };
  assertClose(out, ref.embeddingForward({ ...ix, wte, wpe, wtt }, C), {
    atol: 1e-6,
    rtol: 1e-6,
    name: "out",
  });
  const want = {
    dwte: Float64Array.from(dwte0),
    dwpe: Float64Array.from(dwpe0),
    dwtt: Float64Array.from(dwtt0),
  };
  ref.embeddingBackward(want, dout, ix, C);
  const got = [out];
  for (const name of ["dwte", "dwpe", "dwtt"] as const) {
    const v = await readFloats(g, b[name]);
    assertClose(v, want[name], { atol: 1e-5 + N * 1e-7, rtol: 1e-5, name });
    got.push(v);
  }
  for (const x of [...Object.values(t), ...Object.values(b)]) x.destroy();
  return [...got, new Float32Array([fwd.length, bwd.length])];
}

// Forward WG = 256 elements: N*C = 255, 256, 257; backward WG = 64 columns (bucket layout) or blocks of 32
// columns (lanes layout): C = 63, 64, 65, 127, 128, 129, 257; an odd shape; a BERT-base slice (B = 2, T = 128,
// C = 768, 512 positions, a 2000-row word table).
const CASES: Case[] = [
  { B: 3, T: 15, C: 65, V: 50, P: 20, roberta: true },
  { B: 1, T: 5, C: 51, V: 30, P: 8, roberta: false },
  { B: 1, T: 4, C: 64, V: 30, P: 8, roberta: false },
  { B: 1, T: 1, C: 257, V: 30, P: 8, roberta: true },
  { B: 2, T: 5, C: 63, V: 30, P: 8, roberta: true },
  { B: 2, T: 5, C: 65, V: 30, P: 8, roberta: false },
  { B: 2, T: 3, C: 127, V: 30, P: 8, roberta: true },
  { B: 2, T: 3, C: 128, V: 30, P: 8, roberta: false },
  { B: 2, T: 3, C: 129, V: 30, P: 8, roberta: false },
  { B: 2, T: 128, C: 768, V: 2000, P: 512, roberta: true },
];

for (const s of CASES) {
  gpuTest(`embedding forward and backward, ${JSON.stringify(s)}`, async (g) => {
    const a = await check(g, s);
    const b = await check(g, s);
    a.forEach((x, i) => assert.deepEqual(b[i], x, "bit-identical on a second run"));
    // The other backward layout (checked against the reference inside check), bit-identical run to run.
    const other = g.isSoftware ? "lanes" : "bucket";
    const c = await check(g, s, other);
    const c2 = await check(g, s, other);
    c.forEach((x, i) => assert.deepEqual(c2[i], x, `the ${other} layout, bit-identical on a second run`));
  });
}

gpuTest(
  "embedding tables above the binding limit are split into >= 3 aligned chunks, same bits",
  async (g) => {
    const s = { B: 2, T: 7, C: 16, V: 50, P: 8, roberta: true };
    const whole = await check(g, s);
    const split = await withGpu({ maxBindingBytes: 1024 }, (small) => check(small, s));
    // The lanes layout, chunked, against its own unchunked run.
    const lanes = await check(g, s, "lanes");
    const splitLanes = await withGpu({ maxBindingBytes: 1024 }, (small) => check(small, s, "lanes"));
    splitLanes.slice(0, 4).forEach((x, i) => assert.deepEqual(lanes[i], x, "the lanes layout, chunked"));
    // V * C * 4 = 3200 bytes in chunks of 16 rows (1024 bytes): 4 forward dispatches, 4 + 1 + 1 backward.
    assert.deepEqual([...split[4]], [4, 6]);
    assert.deepEqual([...whole[4]], [1, 3]);
    whole.slice(0, 4).forEach((x, i) => assert.deepEqual(split[i], x, "chunked equals unchunked"));
  },
);
