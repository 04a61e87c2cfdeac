/**
 * Optimizer and AD-DROP selection/mask kernels: AdamW bandwidth (with its ratio to the copy bandwidth measured
 * in the same run), the global gradient norm, and the selection and mask kernels on a BERT-base attention shape.
 *
 * @module
 */
import type { Gpu } from "../src/gpu/device.ts";
import type { CommandBatch, Dispatch } from "../src/gpu/encoder.ts";
import { summarize, timeGpu, type Timing } from "../src/gpu/timing.ts";
import { adamwHyper, adamwUpdate } from "../src/kernels/adamw.ts";
import { addropMask } from "../src/kernels/addrop_mask.ts";
import { copyKernel } from "../src/kernels/copy.ts";
import { gradNorm, gradNormPartialCount } from "../src/kernels/grad_norm.ts";
import { selectRank } from "../src/kernels/select.ts";
import { type BenchCase, benchTensor, millis, rate } from "./_util.ts";

/** Parameters of BERT-mini (4 layers, hidden 256): about 11.2M. */
const PARAMS = 11_170_560;
const B = 8, NH = 12, T = 128;

function time(gpu: Gpu, dispatches: Dispatch[]): Promise<Timing> {
  return timeGpu(gpu, (b: CommandBatch) => void b.run(...dispatches), { warmup: 2, repeats: 10 });
}

/** The copy kernel of copy_bench.ts (64 MiB each way), prepared for timing. */
async function copyCase(gpu: Gpu) {
  const n = 16 * 1024 * 1024;
  const inp = await benchTensor(gpu, [n]);
  const out = await benchTensor(gpu, [n]);
  const d = await copyKernel(gpu, { out, inp });
  return { d, gb: (2 * n * 4) / 1e9, destroy: () => [inp, out].forEach((x) => x.destroy()) };
}

/** Scores (B, NH, T, T) with a spread of lengths, and the selection's thresholds. */
async function attentionInputs(gpu: Gpu) {
  const data = new Float32Array(B * NH * T * T);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 43758.5453 % 1;
  const scores = await benchTensor(gpu, [B, NH, T, T], "f32", { data });
  const lengths = await benchTensor(gpu, [B], "u32", { data: [128, 128, 100, 90, 128, 64, 128, 110] });
  const thr = await benchTensor(gpu, [B * NH * T]);
  const select = await selectRank(gpu, { thr, scores, lengths }, {
    R: B * NH * T,
    L: T,
    rowsPerExample: NH * T,
    p: 0.3,
    mode: "high",
  });
  return { scores, lengths, thr, select, destroy: () => [scores, lengths, thr].forEach((x) => x.destroy()) };
}

export const benchmarks: BenchCase[] = [
  {
    name: "adamw_update",
    async run(gpu) {
      const make = () => benchTensor(gpu, [PARAMS]);
      const [param, m, v, grad] = [await make(), await make(), await make(), await make()];
      const hyper = await benchTensor(gpu, [8], "f32", {
        data: adamwHyper({ lr: 2e-5, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 10 }),
      });
      const clip = await benchTensor(gpu, [1], "f32", { data: [1] });
      const d = await adamwUpdate(gpu, { param, m, v, grad, hyper, clip }, { weightDecay: true });
      // AdamW and copy alternate so that both see the same load of a shared machine.
      const copy = await copyCase(gpu);
      const ta: number[] = [], tc: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        ta.push(...(await time(gpu, d)).samples);
        tc.push(...(await time(gpu, [copy.d])).samples);
      }
      copy.destroy();
      const t = summarize(ta, gpu.hasTimestamps ? "timestamp-query" : "wall-clock");
      const copyGbps = copy.gb / (summarize(tc, t.method).median / 1000);
      const gbps = (7 * PARAMS * 4) / 1e9 / (t.median / 1000);
      const norm = await benchTensor(gpu, [1]);
      const partials = await benchTensor(gpu, [gradNormPartialCount(gpu, [grad])]);
      const gn = await gradNorm(gpu, { norm, clipCoef: clip, partials, grads: [grad] }, { maxNorm: 1 });
      const tn = await time(gpu, gn);
      for (const x of [param, m, v, grad, hyper, clip, norm, partials]) x.destroy();
      return [
        rate(
          "adamw_update",
          "GB/s",
          (7 * PARAMS * 4) / 1e9,
          t,
          `${PARAMS} params, read p,g,m,v + write p,m,v; ${(100 * gbps / copyGbps).toFixed(0)}% of ` +
            `copy_bandwidth ${copyGbps.toPrecision(3)} GB/s measured in this run`,
        ),
        rate(
          "grad_norm",
          "GB/s",
          (PARAMS * 4) / 1e9,
          tn,
          `${PARAMS} floats read, two-stage, norm + clipCoef`,
        ),
      ];
    },
  },
  {
    name: "select_rank_b8_h12_t128",
    async run(gpu) {
      const a = await attentionInputs(gpu);
      const t = await time(gpu, a.select);
      a.destroy();
      return [millis("select_rank_b8_h12_t128", t, "12288 rows of 128, count + min per row, p = 0.3 high")];
    },
  },
  {
    name: "addrop_mask_b8_h12_t128",
    async run(gpu) {
      const a = await attentionInputs(gpu);
      const mask = await benchTensor(gpu, [B, NH, T, T]);
      const rng = await benchTensor(gpu, [2], "u32", { data: [42, 1] });
      const d = await addropMask(gpu, { mask, scores: a.scores, thr: a.thr, lengths: a.lengths, rng }, {
        B,
        NH,
        T,
        q: 0.2,
        mode: "high",
        layer: 0,
      });
      const t = await time(gpu, d);
      a.destroy();
      mask.destroy();
      rng.destroy();
      return [millis("addrop_mask_b8_h12_t128", t, "mask from scores + thresholds, q = 0.2")];
    },
  },
];
