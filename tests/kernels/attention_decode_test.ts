/**
 * Single-query attention (generation's key/value cache) against its CPU reference: odd sizes, strides and
 * offsets as the decoder uses them (q inside a fused q|k|v row, keys and values interleaved in the cache),
 * masked keys, an example with every key masked (zeros), workgroup boundaries, bit-identical repeats, errors.
 */
import assert from "node:assert/strict";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { attentionDecode } from "../../src/kernels/attention_decode.ts";
import {
  attentionDecode as reference,
  type AttentionDecodeDims,
} from "../../src/reference/attention_decode.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";

async function check(gpu: Gpu, d: AttentionDecodeDims, masked: number[][]) {
  const rng = new Rng(d.B * 131 + d.Tk);
  const rand = () => rng.next();
  const qn = (d.B - 1) * d.qStride + d.qOffset + d.NH * d.HS;
  const kvn = (d.B - 1) * d.kvBatch + Math.max(d.kOffset, d.vOffset) + (d.Tk - 1) * d.kvStride + d.NH * d.HS;
  const q = Float32Array.from({ length: qn }, () => rand() * 2 - 1);
  const kv = Float32Array.from({ length: kvn }, () => rand() * 2 - 1);
  const mask = new Float32Array(d.B * d.maskStride);
  masked.forEach((keys, b) => keys.forEach((j) => (mask[b * d.maskStride + j] = -3.4028234663852886e38)));
  for (let i = 0; i < mask.length; i++) if (mask[i] === 0 && i % 5 === 2) mask[i] = -0.75; // additive penalties
  const t = {
    out: await createTensor(gpu, [d.B * d.NH * d.HS]),
    q: await createTensor(gpu, [qn], "f32", { data: q }),
    kv: await createTensor(gpu, [kvn], "f32", { data: kv }),
    mask: await createTensor(gpu, [mask.length], "f32", { data: mask }),
  };
  const dispatch = await attentionDecode(gpu, t, d);
  await runDispatches(gpu, [dispatch]);
  const got = await readFloats(gpu, t.out);
  assertClose(got, reference(q, kv, mask, d), { atol: 2e-6, rtol: 1e-5, name: JSON.stringify(d) });
  await runDispatches(gpu, [dispatch]);
  assert.deepEqual(await readFloats(gpu, t.out), got, "bit-identical repeat");
  for (const x of Object.values(t)) x.destroy();
  return got;
}

gpuTest(
  "attentionDecode matches its reference: fused q|k|v rows, an interleaved cache, masked keys",
  async (gpu) => {
    // Self-attention from a cache of Tmax = 9 rows of [k | v] (2C), the query inside a (3C) q|k|v row.
    const [B, NH, HS, Tk, Tmax] = [3, 2, 5, 7, 9];
    const C = NH * HS;
    const d = {
      B,
      NH,
      HS,
      Tk,
      qStride: 3 * C,
      qOffset: 0,
      kvBatch: Tmax * 2 * C,
      kvStride: 2 * C,
      kOffset: 0,
      vOffset: C,
      maskStride: Tmax,
      scale: 1 / Math.sqrt(HS),
    };
    const out = await check(gpu, d, [[], [1, 4], [0, 1, 2, 3, 4, 5, 6]]);
    // Every key of example 2 masked: zeros.
    assert(out.subarray(2 * C).every((x) => x === 0));
    // Cross-attention layout: a separate (B, Ts, 2C) tensor, queries (B, C).
    await check(gpu, { ...d, Tk: 6, qStride: C, kvBatch: 6 * 2 * C, maskStride: 6 }, [[5], [], [0]]);
  },
);

gpuTest(
  "attentionDecode on workgroup boundaries (B * NH = 63, 64, 65) and a Marian-base head size",
  async (gpu) => {
    for (const B of [63, 64, 65]) {
      await check(gpu, {
        B,
        NH: 1,
        HS: 64,
        Tk: 3,
        qStride: 64,
        qOffset: 0,
        kvBatch: 3 * 128,
        kvStride: 128,
        kOffset: 0,
        vOffset: 64,
        maskStride: 3,
        scale: 0.125,
      }, []);
    }
  },
);

gpuTest("attentionDecode refuses layouts outside its tensors and bad sizes, naming them", async (gpu) => {
  const t = {
    out: await createTensor(gpu, [8]),
    q: await createTensor(gpu, [8]),
    kv: await createTensor(gpu, [16]),
    mask: await createTensor(gpu, [2]),
  };
  const d = {
    B: 1,
    NH: 2,
    HS: 4,
    Tk: 2,
    qStride: 8,
    qOffset: 0,
    kvBatch: 16,
    kvStride: 16,
    kOffset: 0,
    vOffset: 8,
    maskStride: 2,
    scale: 0.5,
  };
  await assert.rejects(attentionDecode(gpu, t, d), /'kv' has 16 elements, the layout reaches 32/);
  await assert.rejects(attentionDecode(gpu, t, { ...d, kvStride: 8, Tk: 0 }), /Tk = 0/);
  await assert.rejects(attentionDecode(gpu, t, { ...d, kvStride: 8, HS: 300 }), /HS = 300/);
  for (const x of Object.values(t)) x.destroy();
});
