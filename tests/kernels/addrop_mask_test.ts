import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/addrop_mask.ts";
import { selectRank } from "../../src/kernels/select.ts";
import * as ref from "../../src/reference/addrop_mask.ts";
import { selectRank as refSelectRank } from "../../src/reference/select.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, type Tensor, writeTensor } from "../../src/gpu/tensor.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

interface Case {
  B: number;
  NH: number;
  T: number;
  lengths: number[];
  p: number;
  q: number;
  mode: "high" | "low" | "random";
  seed: number;
  step: number;
  layer: number;
}

/** Scores with ties, thresholds by the GPU selection, the mask by the GPU; returns what the reference needs. */
async function maskOnGpu(g: Gpu, c: Case, scores: Float32Array) {
  const { B, NH, T } = c;
  const own: Tensor[] = [];
  const make = async (shape: number[], dtype: "f32" | "u32", data?: ArrayLike<number>) => {
    const t = await createTensor(g, shape, dtype, { data });
    own.push(t);
    return t;
  };
  const mask = await make([B, NH, T, T], "f32");
  const lengths = await make([B], "u32", c.lengths);
  const rng = await make([2], "u32", [c.seed, c.step]);
  let dispatches;
  let thrHost: Float32Array = new Float32Array(0);
  if (c.mode === "random") {
    dispatches = await gpu.addropRandomMask(g, { mask, lengths, rng }, { ...c });
  } else {
    const s = await make([B, NH, T, T], "f32", scores);
    const thr = await make([B * NH * T], "f32");
    const so = { R: B * NH * T, L: T, rowsPerExample: NH * T, p: c.p, mode: c.mode };
    await runDispatches(g, await selectRank(g, { thr, scores: s, lengths }, so));
    thrHost = await readFloats(g, thr);
    assert.deepEqual(thrHost, refSelectRank(scores, c.lengths, so));
    dispatches = await gpu.addropMask(g, { mask, scores: s, thr, lengths, rng }, { ...c, mode: c.mode });
  }
  await runDispatches(g, dispatches);
  const first = await readFloats(g, mask);
  writeTensor(g, rng, new Uint32Array([c.seed, c.step + 1]));
  await runDispatches(g, dispatches); // replayed with the next step's rng
  const next = await readFloats(g, mask);
  for (const t of own) t.destroy();
  return { mask: first, next, thr: thrHost, dispatches: dispatches.length };
}

function refMask(c: Case, scores: Float32Array, thr: Float32Array): Float32Array {
  return c.mode === "random"
    ? ref.addropRandomMask(c.lengths, c)
    : ref.addropMask(scores, thr, c.lengths, { ...c, mode: c.mode });
}

function scoresFor(c: Case, ties: boolean): Float32Array {
  const rng = new Rng(c.seed ^ c.T);
  return Float32Array.from({ length: c.B * c.NH * c.T * c.T }, () => ties ? rng.int(7) : rng.normal());
}

// Odd T (scalar entry) and T % 4 = 0 (vec4 entry; n = 10 ends inside a vec4), the WG boundary of the elementwise grid (T*T around 256 is irrelevant; rows*T crossing 256 matters),
// per-example lengths with a 1-token example and a full one.
for (const mode of ["high", "low", "random"] as const) {
  for (const T of [15, 16, 17, 20, 37]) {
    gpuTest(`addrop mask (${mode}) exact vs reference, T = ${T}, lengths with n = 1 and n = T`, async (g) => {
      const c: Case = {
        B: 3,
        NH: 2,
        T,
        lengths: [T, 1, Math.ceil(T / 2)],
        p: 0.4,
        q: 0.5,
        mode,
        seed: 7,
        step: 3,
        layer: 1,
      };
      const scores = scoresFor(c, true);
      const got = await maskOnGpu(g, c, scores);
      assert.deepEqual(got.mask, refMask(c, scores, got.thr));
      assert.deepEqual(got.next, refMask({ ...c, step: c.step + 1 }, scores, got.thr));
      assert.notDeepEqual(got.mask, got.next, "a different step gives a different mask");
    });
  }
}

function stats(c: Case, mask: Float32Array, scores: Float32Array, thr: Float32Array) {
  const { B, NH, T } = c;
  let real = 0, cand = 0, dropped = 0, padDropped = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const row = (b * NH + h) * T + i;
        for (let j = 0; j < T; j++) {
          const e = row * T + j;
          const isReal = i < c.lengths[b] && j < c.lengths[b];
          if (!isReal) {
            if (mask[e] !== 0) padDropped++;
            continue;
          }
          real++;
          const isCand = c.mode === "random" ||
            (c.mode === "high" ? scores[e] >= thr[row] : scores[e] <= thr[row]);
          if (isCand) cand++;
          if (mask[e] === gpu.ADDROP_DROP) dropped++;
          else assert.equal(mask[e], 0);
        }
      }
    }
  }
  return { real, cand, dropped, padDropped };
}

for (const mode of ["high", "low", "random"] as const) {
  gpuTest(
    `addrop mask (${mode}) statistics on B = 8, NH = 12, T = 128: dropped share ~ p*q, padding never`,
    async (g) => {
      const rng = new Rng(99);
      const lengths = Array.from({ length: 8 }, (_, b) => b === 0 ? 1 : b === 1 ? 128 : 1 + rng.int(128));
      const c: Case = { B: 8, NH: 12, T: 128, lengths, p: 0.3, q: 0.2, mode, seed: 1234, step: 5, layer: 0 };
      const scores = scoresFor(c, false);
      const got = await maskOnGpu(g, c, scores);
      const s = stats(c, got.mask, scores, got.thr);
      assert.equal(s.padDropped, 0, "padding keys and rows are never dropped");
      const pDrop = c.mode === "random" ? c.p * c.q : c.q;
      const expected = s.cand * pDrop;
      const sd = Math.sqrt(s.cand * pDrop * (1 - pDrop));
      assert.ok(
        Math.abs(s.dropped - expected) < 5 * sd,
        `dropped ${s.dropped}, expected ${expected} +- ${sd}`,
      );
      const share = s.dropped / s.real;
      assert.ok(
        Math.abs(share - c.p * c.q) < 0.01,
        `dropped share ${share} of real keys vs p*q = ${c.p * c.q}`,
      );
    },
  );
}

gpuTest("addrop mask with q = 1 drops exactly the candidate set; q = 0 drops nothing", async (g) => {
  for (const mode of ["high", "low"] as const) {
    const c: Case = { B: 2, NH: 3, T: 33, lengths: [33, 1], p: 0.3, q: 1, mode, seed: 5, step: 1, layer: 2 };
    const scores = scoresFor(c, true);
    const got = await maskOnGpu(g, c, scores);
    const s = stats(c, got.mask, scores, got.thr);
    assert.equal(s.dropped, s.cand);
    assert.ok(s.cand > 0);
    assert.equal(
      got.mask[33 * 33 * 3],
      gpu.ADDROP_DROP,
      "the n = 1 example's only key is a candidate and dropped",
    );
    const none = await maskOnGpu(g, { ...c, q: 0 }, scores);
    assert.ok(none.mask.every((x) => x === 0));
  }
});

gpuTest(
  "addrop mask: same seed and step give bit-identical masks, another seed a different one",
  async (g) => {
    const c: Case = {
      B: 2,
      NH: 2,
      T: 40,
      lengths: [40, 23],
      p: 0.5,
      q: 0.5,
      mode: "high",
      seed: 77,
      step: 9,
      layer: 0,
    };
    const scores = scoresFor(c, false);
    const a = await maskOnGpu(g, c, scores);
    const b = await maskOnGpu(g, c, scores);
    assert.deepEqual(a.mask, b.mask);
    const other = await maskOnGpu(g, { ...c, seed: 78 }, scores);
    assert.notDeepEqual(a.mask, other.mask);
  },
);

gpuTest("addrop masks split rows above the binding limit (>= 3 ranges)", async () => {
  await withGpu({ maxBindingBytes: 2048 }, async (small) => {
    for (const mode of ["high", "random"] as const) {
      const c: Case = {
        B: 2,
        NH: 3,
        T: 16,
        lengths: [16, 9],
        p: 0.5,
        q: 0.5,
        mode,
        seed: 3,
        step: 2,
        layer: 0,
      };
      const scores = scoresFor(c, true);
      const got = await maskOnGpu(small, c, scores);
      assert.equal(got.dispatches, 3); // 96 rows of 64 bytes, 32 rows per range
      assert.deepEqual(got.mask, refMask(c, scores, got.thr));
    }
  });
});
