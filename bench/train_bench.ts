/**
 * Training-step benchmarks on a BERT-mini shape (4 layers, hidden 256, 4 heads, FFN 1024, vocab 8192,
 * sequence 128, batch 8): a plain step (forward, backward, AdamW) and AD-DROP steps, with the GPU memory the
 * run allocates. Integrated gradients (m = 20) repeats fewer times: one step is 10 to 40 plain ones. Wall
 * clock around completed submits (a step includes its small readback of the loss). And on the default run's
 * model (2 layers, hidden 128, batch 16 x 64), plain steps awaited one by one against steps with one in
 * flight, as `train()` runs them.
 *
 * @module
 */
import type { Gpu } from "../src/gpu/device.ts";
import { parseConfig } from "../src/model/config.ts";
import { Encoder } from "../src/model/encoder.ts";
import { ParamStore } from "../src/model/param_store.ts";
import { initParameter, parameterSpecs } from "../src/model/weights.ts";
import { AdDrop, type AdDropOptions, adDropOptions } from "../src/pipeline/addrop.ts";
import { Optimizer } from "../src/pipeline/optimizer.ts";
import { ProgramCache, TrainStep } from "../src/pipeline/train_step.ts";
import { InOrder } from "../src/gpu/readback.ts";
import { summarize, timeWall } from "../src/gpu/timing.ts";
import {
  type BenchCase,
  type BenchResult,
  millis,
  pairRatio,
  type Pairs,
  timeDispatches,
  timePairs,
} from "./_util.ts";

const B = 8;
/**
 * Samples per case: the AD-DROP ratios are medians over adjacent pairs, and over 5 pairs (3 for IG) they moved
 * by up to a third between full runs of the same code on this host (layer 0: 1.43x at 2026-11-27 04:13, 1.91x
 * at 05:33), so 9 pairs (5 for IG).
 */
const RUNS = { warmup: 2, repeats: 9 };
const IG_RUNS = { warmup: 1, repeats: 5 };
const T = 128;

/** A model shape and batch for {@linkcode setup}: BERT-mini at B = 8, T = 128 unless given. */
interface Shape {
  B: number;
  T: number;
  hidden: number;
  layers: number;
  heads: number;
  /** 8192 unless given. */
  vocab?: number;
}
const MINI: Shape = { B, T, hidden: 256, layers: 4, heads: 4 };
/**
 * BERT-base (12 layers, hidden 768, vocabulary 30,522) at batch 32 x 128: run on hardware adapters only, where
 * a real fine-tuning run's shape is the one to time (on llvmpipe one step would take about half a minute).
 */
const BASE: Shape = { B: 32, T: 128, hidden: 768, layers: 12, heads: 12, vocab: 30522 };

async function setup(gpu: Gpu, shape: Shape = MINI) {
  const { B, T } = shape;
  gpu.memory.resetPeak();
  const base = gpu.memory.current;
  const cfg = parseConfig({
    model_type: "bert",
    architectures: ["BertForSequenceClassification"],
    vocab_size: shape.vocab ?? 8192,
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: 4 * shape.hidden,
    max_position_embeddings: 512,
    id2label: { 0: "a", 1: "b" },
  });
  const specs = parameterSpecs(cfg);
  const store = await ParamStore.create(gpu, specs);
  store.upload(gpu, specs.map((s, i) => initParameter(s, cfg, 1, i)));
  const enc = await Encoder.create(gpu, cfg, store, { maxBatch: B, maxLength: T });
  const opt = await Optimizer.create(gpu, store, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.01,
    maxGradNorm: 1,
  });
  const programs = new ProgramCache(enc);
  const step = new TrainStep(enc, programs, opt, 1, 1);
  return { enc, opt, programs, step, batch: syntheticBatch(B, T), store, base };
}

/** A batch of B rows of T tokens (a [CLS]-like id first, then spread ids, no padding) with labels 0, 1, ... */
function syntheticBatch(B: number, T: number) {
  const ids = Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 2 : 5 + ((i * 7919) % 8000)));
  return {
    B,
    T,
    inputIds: ids,
    attentionMask: ids.map(() => 1),
    tokenTypeIds: ids.map(() => 0),
    labels: Array.from({ length: B }, (_, i) => i % 2),
  };
}

async function measure(
  gpu: Gpu,
  name: string,
  ad: Partial<AdDropOptions> | null,
  runs = RUNS,
  shape: Shape = MINI,
): Promise<BenchResult[]> {
  if (shape !== MINI && gpu.description.kind === "software") {
    console.error(`  ${name}: skipped on a software adapter (BERT-base shape)`);
    return [];
  }
  const { B, T } = shape;
  const s = await setup(gpu, shape);
  const addrop = ad ? await AdDrop.create(s.enc, s.programs, adDropOptions({ seed: 1, ...ad })) : null;
  let i = 0;
  const step = async (withAdDrop: boolean) => {
    const program = withAdDrop ? await addrop!.prepare(s.batch, i) : undefined;
    await s.step.run(s.batch, i, { program, optimizerStep: i + 1, lr: 1e-4 });
    i++;
  };
  // AD-DROP cases time a plain step right before each AD-DROP step (same model, same run), so their ratio to
  // plain is a median over adjacent pairs and does not drift with the host's speed.
  const pairs = addrop ? await timePairs(() => step(false), () => step(true), runs) : null;
  const t = pairs ? summarize(pairs.second, "wall-clock") : await timeWall(() => step(false), runs);
  const peakMb = (gpu.memory.peak - s.base) / 2 ** 20;
  addrop?.destroy();
  s.enc.destroy();
  s.opt.destroy();
  s.store.destroy();
  if (pairs) {
    const ratio = pairRatio(
      `${name}_ratio`,
      "x plain",
      pairs.second,
      pairs.first,
      "AD-DROP step / the plain step timed just before it, same model and run",
    );
    const note =
      `B=${B} T=${T}, wall clock per step; ${ratio.median.toFixed(3)}x the plain step timed just ` +
      `before it (median of ${pairs.first.length} pairs; those plain steps ${
        summarize(pairs.first, "wall-clock").median.toFixed(0)
      } ms)`;
    return [millis(name, t, note), ratio];
  }
  const out = [millis(name, t, `B=${B} T=${T}, wall clock per step`)];
  if (!ad) {
    out.push({
      name: `${name}_memory`,
      unit: "MB",
      median: peakMb,
      min: peakMb,
      max: peakMb,
      note: "tensors allocated by the run (params, grads, Adam, activations)",
    });
  }
  return out;
}

/**
 * Why `collate` pads batches to a multiple of 8 tokens: the plain BERT-mini step with batches of T = 127 (as
 * padding to the longest example alone would give; the attention then takes its T % 4 != 0 kernels) against
 * T = 128, interleaved step by step on one model; the ratio is the median over pairs.
 */
async function unaligned(gpu: Gpu, name: string): Promise<BenchResult[]> {
  const s = await setup(gpu);
  const short = 127;
  const batch127 = syntheticBatch(B, short);
  let i = 0;
  const step = async (batch: typeof s.batch) => {
    await s.step.run(batch, i, { optimizerStep: i + 1, lr: 1e-4 });
    i++;
  };
  let pairs: Pairs;
  try {
    pairs = await timePairs(() => step(batch127), () => step(s.batch), RUNS);
  } finally {
    s.enc.destroy();
    s.opt.destroy();
    s.store.destroy();
  }
  const { first: t127, second: t128 } = pairs;
  return [
    millis(
      name,
      summarize(t127, "wall-clock"),
      `B=${B} T=${short}, wall clock per step, interleaved with T=${T} steps (median ${
        summarize(t128, "wall-clock").median.toFixed(0)
      } ms)`,
    ),
    pairRatio(`${name}_ratio`, "x", t127, t128, `the T=${short} step / the T=${T} step after it`),
  ];
}

/** The default run's model (2 layers, hidden 128) at its batch, 16 x 64. */
const DEFAULT_RUN: Shape = { B: 16, T: 64, hidden: 128, layers: 2, heads: 2 };
const STEPS = 8;

/**
 * Plain steps of the default run's model, STEPS per sample, awaited one by one (`TrainStep.run`) or with one in
 * flight (`TrainStep.submit`, each step's numbers awaited after the next is submitted, as `train()` runs them),
 * the two interleaved; the ratio is the median over rounds of the awaited time over the in-flight one.
 */
async function inFlight(gpu: Gpu, name: string): Promise<BenchResult[]> {
  const s = await setup(gpu, DEFAULT_RUN);
  let i = 0;
  const o = () => ({ optimizerStep: i + 1, lr: 1e-4 });
  const awaited = async () => {
    for (let k = 0; k < STEPS; k++, i++) await s.step.run(s.batch, i, o());
  };
  const overlapped = async () => {
    const inFlight = new InOrder<unknown>();
    for (let k = 0; k < STEPS; k++, i++) {
      await inFlight.push((await s.step.submit(s.batch, i, o())).stats, () => {});
    }
    await inFlight.drain();
  };
  const a: number[] = [], b: number[] = [], ratios: number[] = [];
  for (let r = 0; r < 8; r++) {
    const t0 = performance.now();
    await awaited();
    const t1 = performance.now();
    await overlapped();
    const t2 = performance.now();
    if (r < 1) continue;
    a.push((t1 - t0) / STEPS);
    b.push((t2 - t1) / STEPS);
    ratios.push((t1 - t0) / (t2 - t1));
  }
  s.enc.destroy();
  s.opt.destroy();
  s.store.destroy();
  const shape = `B=${DEFAULT_RUN.B} T=${DEFAULT_RUN.T}, 2 layers, hidden 128; ${STEPS} steps per sample`;
  const r = summarize(ratios, "wall-clock");
  return [
    millis(`${name}_awaited`, summarize(a, "wall-clock"), `${shape}, each awaited; interleaved`),
    millis(`${name}_in_flight`, summarize(b, "wall-clock"), `${shape}, one in flight; interleaved`),
    {
      name: `${name}_speedup`,
      unit: "x",
      median: r.median,
      min: r.min,
      max: r.max,
      note: "time of awaited steps / time of steps with one in flight (median over 7 rounds)",
    },
  ];
}

/** Kernel families of {@linkcode byKernel}, by shader file name prefix (first match). */
const FAMILIES: [string, RegExp][] = [
  ["attention", /^attention_/],
  ["matmul", /^matmul_/],
  ["layernorm", /^layernorm_/],
  ["optimizer", /^(adamw_|grad_norm|reduce_)/],
  ["elementwise", /^(activation_|dropout_|residual_|scale|accumulate)/],
  ["embedding", /^(embedding_|first_token_)/],
  ["loss", /^(crossentropy_|mse_)/],
];

/**
 * Where a plain BERT-mini training step's time goes, by kernel family: every dispatch of forward, loss, backward
 * and AdamW timed by `timestamp-query` in one compute pass each (the time before a pass, i.e. its copies, is
 * counted with it), 2 steps per submit, medians of 3 submits. None without timestamp queries.
 */
async function byKernel(gpu: Gpu, name: string): Promise<BenchResult[]> {
  const s = await setup(gpu);
  try {
    const prog = await s.programs.get(B, T, "train");
    s.enc.writeBatch(s.batch);
    s.enc.setStep(1, 0);
    s.opt.setStep(1, 1e-4);
    const list = [...prog.forward, ...prog.loss, ...prog.backward, ...s.opt.step];
    const t = await timeDispatches(gpu, list, 2, 3);
    if (!t) return [];
    const ms = new Map<string, number>();
    list.forEach((d, i) => {
      const family = FAMILIES.find(([, re]) => re.test(d.kernel.source.file))?.[0] ?? "other";
      ms.set(family, (ms.get(family) ?? 0) + t.run[i] + t.between[i]);
    });
    const total = [...ms.values()].reduce((a, b) => a + b, 0);
    const shares = [...ms].sort((a, b) => b[1] - a[1]).map(([k, v]) =>
      `${k} ${(100 * v / total).toFixed(1)}%`
    );
    const note =
      `timestamp-query, B=${B} T=${T}, ${list.length} dispatches, one compute pass each (copies before a ` +
      `pass counted with it), 2 steps per submit, medians of 3 submits; wall clock ${
        t.wall.toFixed(0)
      } ms per step`;
    return [
      { name, unit: "ms", median: total, min: total, max: total, note: `${note}; ${shares.join(", ")}` },
      ...[...ms].map(([k, v]) => ({
        name: `${name}_${k}`,
        unit: "ms",
        median: v,
        min: v,
        max: v,
        note: `${note}; the ${k} kernels`,
      })),
    ];
  } finally {
    s.enc.destroy();
    s.opt.destroy();
    s.store.destroy();
  }
}

export const benchmarks: BenchCase[] = [
  { name: "default_model_plain_steps", run: (gpu) => inFlight(gpu, "default_model_plain_step") },
  { name: "bert_mini_plain_step", run: (gpu) => measure(gpu, "bert_mini_plain_step", null) },
  { name: "bert_mini_plain_step_by_kernel", run: (gpu) => byKernel(gpu, "bert_mini_plain_step_by_kernel") },
  { name: "bert_mini_plain_step_t127", run: (gpu) => unaligned(gpu, "bert_mini_plain_step_t127") },
  {
    name: "bert_mini_addrop_grad_layer0_step",
    run: (gpu) => measure(gpu, "bert_mini_addrop_grad_layer0_step", { layers: [0] }),
  },
  {
    name: "bert_mini_addrop_grad_all_step",
    run: (gpu) => measure(gpu, "bert_mini_addrop_grad_all_step", { layers: "all" }),
  },
  {
    name: "bert_mini_addrop_ig_layer0_step",
    run: (gpu) =>
      measure(gpu, "bert_mini_addrop_ig_layer0_step", { attribution: "ig", layers: [0] }, IG_RUNS),
  },
  {
    name: "bert_mini_addrop_ig_all_step",
    run: (gpu) => measure(gpu, "bert_mini_addrop_ig_all_step", { attribution: "ig", layers: "all" }, IG_RUNS),
  },
  { name: "bert_base_plain_step", run: (gpu) => measure(gpu, "bert_base_plain_step", null, RUNS, BASE) },
  {
    name: "bert_base_addrop_grad_all_step",
    run: (gpu) => measure(gpu, "bert_base_addrop_grad_all_step", { layers: "all" }, RUNS, BASE),
  },
];
