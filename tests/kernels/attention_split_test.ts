/**
 * Attention, AD-DROP selection and masks with (B, NH, T, T) tensors above a forced-low binding limit: split
 * into chunks of whole examples, bit-identical to the unsplit run on the shared device and close to the CPU
 * reference; every binding stays within the limit (checked by watching the bind groups).
 */
import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/attention.ts";
import { accumulateSplit } from "../../src/kernels/accumulate.ts";
import { addropMask } from "../../src/kernels/addrop_mask.ts";
import { accumulate as refAccumulate } from "../../src/reference/accumulate.ts";
import { selectRank } from "../../src/kernels/select.ts";
import { ShapeError } from "../../src/kernels/shapes.ts";
import * as ref from "../../src/reference/attention.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, type Tensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { watchBindings } from "../_util/bindings.ts";
import { Rng } from "../_util/rng.ts";

const F32_MIN = -3.4028234663852886e38;
const RNG = { seed: 99, step: 3 };

type Case = gpu.AttentionDims & { lens: number[] };

function inputs(c: Case) {
  const { B, T, C, NH } = c;
  const rng = new Rng(T * 7 + B);
  const keyMask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) keyMask.fill(F32_MIN, b * T + c.lens[b], (b + 1) * T);
  const addMask = Float32Array.from({ length: B * NH * T * T }, () => {
    const u = rng.next();
    return u < 0.2 ? -1e9 : u < 0.3 ? -10000 : 0;
  });
  return {
    qkv: rng.floats(B * T * 3 * C),
    keyMask,
    addMask,
    alpha: Float32Array.from({ length: B }, (_, b) => (b + 2) / (B + 2)),
    dout: rng.floats(B * T * C),
  };
}

/** Forward then backward (padding, additive mask, alpha, dropout all on); returns every output. */
async function run(g: Gpu, c: Case, x: ReturnType<typeof inputs>) {
  const { B, T, C, NH } = c;
  const own: Tensor[] = [];
  const mk = async (shape: number[], data?: Float32Array | number[], dtype: "f32" | "u32" = "f32") => {
    const t = await createTensor(g, shape, dtype, data ? { data } : {});
    own.push(t);
    return t;
  };
  const qkv = await mk([B, T, 3 * C], x.qkv);
  const keyMask = await mk([B, T], x.keyMask);
  const addMask = await mk([B, NH, T, T], x.addMask);
  const alpha = await mk([B], x.alpha);
  const dout = await mk([B, T, C], x.dout);
  const rng = await mk([2], [RNG.seed, RNG.step], "u32");
  const [out, probs, dqkv, dprobs] = [
    await mk([B, T, C]),
    await mk([B, NH, T, T]),
    await mk([B, T, 3 * C]),
    await mk([B, NH, T, T]),
  ];
  const fscratch = await mk(gpu.attentionScratchShape(c, "forward", true)!);
  const scratch = await mk(gpu.attentionScratchShape(c, "backward")!);
  const fwd = await gpu.attentionForward(g, {
    out,
    probs,
    qkv,
    keyMask,
    addMask,
    alpha,
    rng,
    scratch: fscratch,
  }, c);
  const bwd = await gpu.attentionBackward(g, {
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
  }, c);
  await runDispatches(g, [...fwd, ...bwd]);
  const res = {
    out: await readFloats(g, out),
    probs: await readFloats(g, probs),
    dqkv: await readFloats(g, dqkv),
    dprobs: await readFloats(g, dprobs),
    dispatches: [fwd.length, bwd.length],
  };
  [...fwd, ...bwd].forEach((d) => d.destroy());
  own.forEach((t) => t.destroy());
  return res;
}

function splitCase(name: string, c: Case, limit: number, chunks: number) {
  gpuTest(`attention split ${name}: B=${c.B} NH=${c.NH} T=${c.T} limit ${limit}`, async (shared) => {
    const x = inputs(c);
    const whole = await run(shared, c, x);
    assert.deepEqual(whole.dispatches, [3, 5], "one chunk: no extra dispatches");
    const split = await withGpu({ maxBindingBytes: limit }, async (small) => {
      const watch = watchBindings(small);
      const r = await run(small, c, x);
      assert.ok(
        watch.max <= small.maxBindingBytes,
        `largest binding ${watch.max} > ${small.maxBindingBytes}`,
      );
      return r;
    });
    assert.ok(c.B * c.NH * c.T * c.T * 4 > limit, "the case exceeds the limit");
    assert.deepEqual(split.dispatches, [3 * chunks, 5 * chunks], `${chunks} chunks`);
    for (const k of ["out", "probs", "dqkv", "dprobs"] as const) {
      assert.deepEqual(split[k], whole[k], `${k}: split bit-identical to unsplit`);
    }
    const e = ref.attentionForward(x.qkv, x.keyMask, x.addMask, x.alpha, RNG, c);
    const eb = ref.attentionBackward(x.dout, x.qkv, e.probs, x.alpha, RNG, c);
    const hs = c.C / c.NH;
    assertClose(split.probs, e.probs, { atol: 2e-6, rtol: 1e-4, name: "probs" });
    assertClose(split.out, e.out, { atol: 2e-5, rtol: 1e-4, name: "out" });
    assertClose(split.dqkv, eb.dqkv, { atol: 1e-4 * Math.sqrt(c.T * hs), rtol: 1e-3, name: "dqkv" });
    assertClose(split.dprobs, eb.dprobs, { atol: 1e-5 * hs, rtol: 1e-4, name: "dprobs" });
  });
}

const drop = { pDrop: 0.2, layer: 1 };
// Odd T (scalar products); one example's probs are 16428 bytes, not a multiple of the 256-byte alignment.
splitCase("odd T", { B: 5, NH: 3, T: 37, C: 24, lens: [37, 30, 1, 37, 20], ...drop }, 40960, 3);
splitCase(
  "odd T, one example per chunk",
  { B: 5, NH: 3, T: 37, C: 24, lens: [37, 30, 1, 37, 20], ...drop },
  20480,
  5,
);
// T % 4 = 0 (vec4 products read from views at non-zero element offsets).
splitCase("vec4", { B: 5, NH: 3, T: 36, C: 24, lens: [36, 36, 17, 5, 36], ...drop }, 32768, 3);

gpuTest("attention split: one example above the limit names the tensor and sizes", async () => {
  const c = { B: 2, NH: 3, T: 37, C: 24, pDrop: 0, layer: 0 };
  await withGpu({ maxBindingBytes: 16384 }, async (small) => {
    const t = (shape: number[]) => createTensor(small, shape);
    const [B, T, C, NH] = [c.B, c.T, c.C, c.NH];
    const probs = await t([B, NH, T, T]);
    const rng = await createTensor(small, [2], "u32");
    await assert.rejects(
      gpu.attentionForward(small, {
        out: await t([B, T, C]),
        probs,
        qkv: await t([B, T, 3 * C]),
        keyMask: await t([B, T]),
        addMask: null,
        alpha: null,
        rng,
      }, c),
      (e: Error) =>
        e instanceof ShapeError && /'probs' is 16428 bytes/.test(e.message) && /16384 bytes/.test(e.message),
    );
  });
});

gpuTest("AD-DROP select + mask split by rows: bit-identical to unsplit", async (shared) => {
  const [B, NH, T] = [5, 3, 37];
  const lens = [37, 30, 1, 37, 20];
  const scores = new Rng(5).floats(B * NH * T * T, 0, 1);
  const once = async (g: Gpu) => {
    const s = await createTensor(g, [B, NH, T, T], "f32", { data: scores });
    const lengths = await createTensor(g, [B], "u32", { data: lens });
    const rng = await createTensor(g, [2], "u32", { data: [7, 2] });
    const thr = await createTensor(g, [B * NH * T]);
    const mask = await createTensor(g, [B, NH, T, T]);
    const so = { R: B * NH * T, L: T, rowsPerExample: NH * T, p: 0.3, mode: "high" as const };
    const ds = [
      ...await selectRank(g, { thr, scores: s, lengths }, so),
      ...await addropMask(g, { mask, scores: s, thr, lengths, rng }, {
        B,
        NH,
        T,
        q: 0.5,
        mode: "high",
        layer: 1,
      }),
    ];
    await runDispatches(g, ds);
    return { thr: await readFloats(g, thr), mask: await readFloats(g, mask), n: ds.length };
  };
  const whole = await once(shared);
  const split = await withGpu({ maxBindingBytes: 20480 }, async (small) => {
    const watch = watchBindings(small);
    const r = await once(small);
    assert.ok(watch.max <= small.maxBindingBytes, `largest binding ${watch.max}`);
    return r;
  });
  assert.equal(whole.n, 2);
  assert.ok(split.n > 4, `split into ${split.n} dispatches`);
  assert.deepEqual(split.thr, whole.thr);
  assert.deepEqual(split.mask, whole.mask);
  assert.ok(whole.mask.includes(-1e9) && whole.mask.includes(0), "the mask drops some positions, not all");
});

gpuTest(
  "accumulateSplit: ranges below a forced limit equal the reference; one dispatch when it fits",
  async (shared) => {
    const n = 5 * 3 * 37 * 37; // 20535 floats, 82140 bytes
    const rng = new Rng(11);
    const [a, x] = [rng.floats(n), rng.floats(n)];
    for (const mode of ["set", "add", "multiply"] as const) {
      const want = a.slice();
      refAccumulate(want, x, { mode, s: 0.37 });
      const once = async (g: Gpu) => {
        const out = await createTensor(g, [n], "f32", { data: a });
        const xt = await createTensor(g, [n], "f32", { data: x });
        const ds = await accumulateSplit(g, { out, x: xt }, { mode, s: 0.37 });
        await runDispatches(g, ds);
        return { got: await readFloats(g, out), n: ds.length };
      };
      const whole = await once(shared);
      assert.equal(whole.n, 1);
      const split = await withGpu({ maxBindingBytes: 20480 }, async (small) => {
        const watch = watchBindings(small);
        const r = await once(small);
        assert.ok(watch.max <= 20480, `largest binding ${watch.max}`);
        return r;
      });
      assert.equal(split.n, 5, "82140 bytes in 20480-byte ranges");
      assert.deepEqual(split.got, whole.got, `${mode}: split bit-identical to unsplit`);
      // A GPU may fuse out + s * x into one FMA (WGSL allows it; the H200 did): 1 ulp from the reference.
      if (mode === "set") assert.deepEqual(whole.got, want, `${mode}: unsplit`);
      else assertClose(whole.got, want, { atol: 1e-7, rtol: 3e-7, name: `${mode}: unsplit` });
    }
  },
);
