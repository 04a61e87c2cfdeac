import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/attention.ts";
import { textureCopy } from "../../src/kernels/attention_matmul.ts";
import * as ref from "../../src/reference/attention.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, type Tensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

const F32_MIN = -3.4028234663852886e38;
const RNG = { seed: 1234, step: 7 };

interface Case extends gpu.AttentionDims {
  /** Valid (non-padding) length of each example. */
  lens?: number[];
  add?: boolean;
  alpha?: boolean;
  dprobs?: boolean;
  /** Backward with `dprobsOnly` (dqkv starts filled with 7 and must stay so). */
  dprobsOnly?: boolean;
  /** A shader file some product must use (checks which kernel a case exercises). */
  kernel?: string;
}

function inputs(c: Case, seed: number) {
  const { B, T, C, NH } = c;
  const rng = new Rng(seed);
  const qkv = rng.floats(B * T * 3 * C, -1, 1);
  const keyMask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let j = c.lens?.[b] ?? T; j < T; j++) keyMask[b * T + j] = F32_MIN;
  let addMask: Float32Array | null = null;
  if (c.add) {
    // AD-DROP style: f32 min on ~30% (also on padding keys, so f32 min + f32 min occurs), -10000 on ~10%,
    // and one query row with every key dropped.
    addMask = Float32Array.from({ length: B * NH * T * T }, () => {
      const u = rng.next();
      return u < 0.3 ? F32_MIN : u < 0.4 ? -10000 : 0;
    });
    addMask.fill(F32_MIN, T, 2 * T);
  }
  const alpha = c.alpha ? Float32Array.from({ length: B }, (_, b) => (b + 1) / (B + 1)) : null;
  const dout = rng.floats(B * T * C, -1, 1);
  return { qkv, keyMask, addMask, alpha, dout };
}

async function run(g: Gpu, c: Case, x: ReturnType<typeof inputs>) {
  const { B, T, C, NH } = c;
  const ts: Tensor[] = [];
  const mk = async (shape: number[], data?: Float32Array | null) => {
    const t = await createTensor(g, shape, "f32", data ? { data } : {});
    ts.push(t);
    return t;
  };
  const qkv = await mk([B, T, 3 * C], x.qkv);
  const keyMask = await mk([B, T], x.keyMask);
  const addMask = x.addMask ? await mk([B, NH, T, T], x.addMask) : null;
  const alpha = x.alpha ? await mk([B], x.alpha) : null;
  const dout = await mk([B, T, C], x.dout);
  const out = await mk([B, T, C]);
  const probs = await mk([B, NH, T, T]);
  const dqkv = await mk([B, T, 3 * C], c.dprobsOnly ? new Float32Array(B * T * 3 * C).fill(7) : null);
  const dprobs = c.dprobs === false ? null : await mk([B, NH, T, T]);
  const fwdShape = gpu.attentionScratchShape(c, "forward", alpha !== null);
  const fscratch = fwdShape ? await mk(fwdShape) : null;
  const scratch = await mk(gpu.attentionScratchShape(c, "backward")!);
  const rng = await createTensor(g, [2], "u32", { data: [RNG.seed, RNG.step] });
  ts.push(rng);
  const ds = [
    ...await gpu.attentionForward(g, { out, probs, qkv, keyMask, addMask, alpha, rng, scratch: fscratch }, c),
    ...await gpu.attentionBackward(
      g,
      {
        dqkv,
        dprobs,
        dout,
        qkv,
        probs,
        keyMask,
        addMask,
        alpha,
        rng,
        scratch,
      },
      c,
      { dprobsOnly: c.dprobsOnly },
    ),
  ];
  const read = async () => ({
    out: await readFloats(g, out),
    probs: await readFloats(g, probs),
    dqkv: await readFloats(g, dqkv),
    dprobs: dprobs ? await readFloats(g, dprobs) : null,
  });
  await runDispatches(g, ds);
  const first = await read();
  await runDispatches(g, ds);
  const second = await read();
  const kernels = ds.map((d) => d.kernel.name);
  ds.forEach((d) => d.destroy());
  ts.forEach((t) => t.destroy());
  return { first, second, kernels };
}

function gpuCase(name: string, c: Case) {
  gpuTest(`attention ${name}: B=${c.B} T=${c.T} C=${c.C} NH=${c.NH} p=${c.pDrop}`, async (g) => {
    const x = inputs(c, c.T * 31 + c.C);
    const { first, second, kernels } = await run(g, c, x);
    if (c.kernel) assert.ok(kernels.some((k) => k.startsWith(c.kernel!)), `${c.kernel} not in ${kernels}`);
    const e = ref.attentionForward(x.qkv, x.keyMask, x.addMask, x.alpha, RNG, c);
    const eb = ref.attentionBackward(x.dout, x.qkv, e.probs, x.alpha, RNG, c);
    const hs = c.C / c.NH;
    assertClose(first.probs, e.probs, { atol: 2e-6, rtol: 1e-4, name: "probs" });
    assertClose(first.out, e.out, { atol: 2e-5, rtol: 1e-4, name: "out" });
    if (c.dprobsOnly) assert.ok(first.dqkv.every((v) => v === 7), "dprobsOnly leaves dqkv untouched");
    else assertClose(first.dqkv, eb.dqkv, { atol: 1e-4 * Math.sqrt(c.T * hs), rtol: 1e-3, name: "dqkv" });
    if (first.dprobs) assertClose(first.dprobs, eb.dprobs, { atol: 1e-5 * hs, rtol: 1e-4, name: "dprobs" });
    for (const k of ["out", "probs", "dqkv", "dprobs"] as const) {
      assert.deepEqual(second[k], first[k], `${k} bit-identical on a second run`);
    }
  });
}

// Odd shape (hs = 5, T = 13: the scalar kernel), with everything on.
const full = { add: true, alpha: true, pDrop: 0.2, layer: 3 };
gpuCase("odd", { B: 2, T: 13, C: 15, NH: 3, lens: [13, 9], ...full });
gpuCase("odd, dprobs only (attribution)", {
  B: 2,
  T: 13,
  C: 15,
  NH: 3,
  lens: [13, 9],
  ...full,
  dprobsOnly: true,
});
gpuCase("aligned, dprobs only", { B: 2, T: 32, C: 16, NH: 2, lens: [32, 20], ...full, dprobsOnly: true });
gpuCase("odd, no dprobs, no masks", { B: 2, T: 13, C: 15, NH: 3, pDrop: 0, layer: 0, dprobs: false });
// The vec4 row pass without the AD-DROP mask and without dropout (its HAS_ADD and WRITE_DROPPED off).
const plain16 = { B: 2, T: 16, C: 16, NH: 2, pDrop: 0, layer: 0 };
gpuCase("aligned, no dropout, no masks", {
  ...plain16,
  rowLayout: "invocation",
  kernel: "attention_probs_forward_vec4.wgsl[WG=64,HAS_ADD=0,WRITE_DROPPED=0]",
});
// Workgroup boundaries. Tiles (rows x columns of a product): 8 x 8 blocks 32 x 64 (software) / 64 x 64
// (hardware); 4 x 4 blocks and the scalar kernel 16 x 32 / 32 x 32. T % 4 = 0 takes the vec4 kernels, other T
// the scalar one (likewise the row passes); hs = 12 leaves half an 8-column block past the edge.
for (const T of [12, 15, 16, 17, 28, 31, 32, 33, 36, 60, 64, 65, 68]) {
  const kernel = T % 4 === 0 ? "attention_probs_backward_vec4.wgsl" : "attention_probs_backward.wgsl";
  gpuCase("tile boundary", { B: 2, T, C: 16, NH: 2, lens: [T, T - 3], ...full, kernel });
}
gpuCase("hs = 12", { B: 2, T: 20, C: 24, NH: 2, lens: [20, 11], ...full });
// The 32-row block (the software default where it applies): row blocks and column groups past the edge, with
// the operands read from texture copies (the software default: 32 x 32 blocks, so T = 32 fills one and
// hs = 16 half of one) and from the storage buffers (32 x 16 blocks).
for (const T of [4, 32, 36, 68]) {
  const tex = { block: 32, textures: true, kernel: "attention_matmul_rows_tex.wgsl" } as const;
  gpuCase("32 x 32 block, textures", { B: 2, T, C: 32, NH: 2, lens: [T, T - 3], ...full, ...tex });
  if (T === 32) continue;
  const storage = { block: 32, textures: false, kernel: "attention_matmul_rows.wgsl" } as const;
  gpuCase("32 x 16 block, storage", { B: 2, T, C: 32, NH: 2, lens: [T, T - 3], ...full, ...storage });
}
gpuCase("8 x 8 block", {
  B: 2,
  T: 36,
  C: 16,
  NH: 2,
  lens: [36, 20],
  block: 8,
  kernel: "attention_matmul_vec8",
  ...full,
});
gpuCase("hardware tiling", { B: 2, T: 36, C: 16, NH: 2, lens: [36, 20], tiling: "hardware", ...full });
gpuCase("4 x 4 block", { B: 2, T: 36, C: 16, NH: 2, lens: [36, 20], block: 4, ...full });
gpuCase("4 x 4 block, hardware tiling", {
  B: 2,
  T: 20,
  C: 16,
  NH: 2,
  lens: [20, 9],
  block: 4,
  tiling: "hardware",
  ...full,
});
gpuCase("scalar kernel on an aligned shape", {
  B: 2,
  T: 32,
  C: 16,
  NH: 2,
  lens: [32, 20],
  scalar: true,
  ...full,
  kernel: "attention_probs_forward.wgsl",
});
// The hardware GPUs' products (matmul_tiled.wgsl, 64 x 64 tiles, staged 16 deep): T and hs across the tile
// and staging boundaries, forced here (the default on hardware adapters).
for (const T of [5, 16, 17, 63, 64, 65]) {
  const tiled = { tiled: true, kernel: "matmul_tiled.wgsl" } as const;
  gpuCase("tiled products", { B: 2, T, C: 24, NH: 2, lens: [T, Math.max(1, T - 3)], ...full, ...tiled });
}
gpuCase("every key of example 1 padded", { B: 2, T: 8, C: 8, NH: 2, lens: [8, 0], ...full });
// The GPUs' row passes (rowLayout "lanes", their default): 1, 2, 4, 8, 16 and 32 invocations per row, a row
// of 33 vec4s over 32 lanes, partial workgroups (rows not a multiple of 64 / lanes), everything on.
for (
  const [T, B, NH] of [[4, 1, 3], [8, 2, 2], [12, 1, 3], [16, 2, 2], [36, 1, 1], [68, 1, 1], [132, 1, 1]]
) {
  const lanes = { rowLayout: "lanes", kernel: "attention_probs_forward_vec4.wgsl[WG=64,LANES=" } as const;
  gpuCase("row passes in lanes", { B, T, C: 8 * NH, NH, lens: [T, T - 3].slice(0, B), ...full, ...lanes });
}
gpuCase("row passes in lanes, dprobs only", {
  B: 2,
  T: 32,
  C: 16,
  NH: 2,
  lens: [32, 20],
  ...full,
  dprobsOnly: true,
  rowLayout: "lanes",
  kernel: "attention_probs_backward_vec4.wgsl[WG=64,LANES=8]",
});
gpuCase("row passes in lanes, no dropout, no masks", {
  ...plain16,
  rowLayout: "lanes",
  kernel: "attention_probs_forward_vec4.wgsl[WG=64,LANES=4,HAS_ADD=0,WRITE_DROPPED=0]",
});
// BERT-base slice with padding, no AD-DROP mask, dropout 0.1: the adapter's default kernels, then the 32 x 16
// block from storage buffers and the 8 x 8 block.
const bertSlice = { B: 1, T: 128, C: 768, NH: 12, lens: [100], pDrop: 0.1, layer: 0 };
gpuCase("BERT-base slice", { ...bertSlice, kernel: "attention_probs_forward_vec4.wgsl" });
gpuCase("BERT-base slice, 32 x 16 block from storage", {
  ...bertSlice,
  block: 32,
  textures: false,
  kernel: "attention_matmul_rows.wgsl",
});
gpuCase("BERT-base slice, 8 x 8 block", { ...bertSlice, block: 8, kernel: "attention_matmul_vec8" });
gpuCase("BERT-base slice, tiled products", { ...bertSlice, tiled: true, kernel: "matmul_tiled.wgsl" });
gpuCase("BERT-base slice, row passes in lanes", {
  ...bertSlice,
  rowLayout: "lanes",
  kernel: "attention_probs_backward_vec4.wgsl[WG=64,LANES=32]",
});

Deno.test("attention reference backward matches finite differences (dqkv, dprobs, alpha)", () => {
  const c: Case = { B: 2, T: 5, C: 6, NH: 2, lens: [5, 3], add: true, alpha: true, pDrop: 0.3, layer: 1 };
  const x = inputs(c, 5);
  x.addMask![3] = 0; // keep the all-masked row but make sure some row has a -10000 penalty
  const qkv = Float64Array.from(x.qkv);
  const loss = (q: ArrayLike<number>, alpha: ArrayLike<number>) => {
    const { out } = ref.attentionForward(q, x.keyMask, x.addMask, alpha, RNG, c);
    return out.reduce((s, v, i) => s + v * x.dout[i], 0);
  };
  const alpha = Float64Array.from(x.alpha!);
  const { probs } = ref.attentionForward(qkv, x.keyMask, x.addMask, alpha, RNG, c);
  const { dqkv, dprobs } = ref.attentionBackward(x.dout, qkv, probs, alpha, RNG, c);
  const h = 1e-6;
  const fd = (f: (s: number) => number) => (f(h) - f(-h)) / (2 * h);
  const numQkv = qkv.map((_, i) =>
    fd((s) => {
      const q = qkv.slice();
      q[i] += s;
      return loss(q, alpha);
    })
  );
  assertClose(dqkv, numQkv, { atol: 1e-7, rtol: 1e-5, name: "dqkv vs finite differences" });
  // dprobs = dLoss/d(alpha * A): perturb the scaled probabilities fed to attentionApply.
  const scaled = ref.scaleProbs(probs, alpha, c);
  const keep = ref.dropoutKeep(RNG, c);
  const applyLoss = (p: Float64Array) =>
    ref.attentionApply(p, qkv, keep, c).reduce((s, v, i) => s + v * x.dout[i], 0);
  const numProbs = scaled.map((_, i) =>
    fd((s) => {
      const p = scaled.slice();
      p[i] += s;
      return applyLoss(p);
    })
  );
  assertClose(dprobs, numProbs, { atol: 1e-7, rtol: 1e-5, name: "dprobs vs finite differences" });
  // dLoss/dalpha[b] = sum over example b of dprobs * A.
  const per = c.NH * c.T * c.T;
  for (let b = 0; b < c.B; b++) {
    let analytic = 0;
    for (let e = b * per; e < (b + 1) * per; e++) analytic += dprobs[e] * probs[e];
    const numeric = fd((s) => {
      const a = alpha.slice();
      a[b] += s;
      return loss(qkv, a);
    });
    assertClose([analytic], [numeric], { atol: 1e-7, rtol: 1e-5, name: `dalpha[${b}]` });
  }
  assert.ok(keep.includes(0) && keep.includes(1), "the case draws both kept and dropped elements");
  assert.ok(probs.slice(c.T, 2 * c.T).every((v) => v === 0), "an all-masked row has probabilities 0");
});

gpuTest("attention rejects a wrong qkv shape and a missing scratch", async (g) => {
  const d = { B: 1, T: 4, C: 8, NH: 2, pDrop: 0.1, layer: 0 };
  const t = (n: number) => createTensor(g, [n]);
  const base = {
    out: await t(32),
    probs: await t(32),
    keyMask: await t(4),
    addMask: null,
    alpha: null,
    rng: await createTensor(g, [2], "u32"),
  };
  const [bad, good, scratch] = [await t(95), await t(96), await t(32)];
  await assert.rejects(() => gpu.attentionForward(g, { ...base, qkv: bad, scratch }, d), /qkv/);
  await assert.rejects(() => gpu.attentionForward(g, { ...base, qkv: good }, d), /scratch/);
});

gpuTest(
  "attention products' texture copies refuse a misaligned start and a span past the buffer",
  async (g) => {
    const t = await createTensor(g, [64]);
    try {
      assert.ok(textureCopy(g, "test", t, 0, 64), "an aligned span in the buffer is copied");
      assert.equal(textureCopy(g, "test", t.view([60], 1), 0, 60), null, "a view at byte 4");
      assert.equal(textureCopy(g, "test", t, 8, 72), null, "a span past the buffer's end");
    } finally {
      t.destroy();
    }
  },
);
