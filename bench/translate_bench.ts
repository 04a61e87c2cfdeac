/**
 * Translation benchmarks on a Marian-mini shape (4 + 4 layers, d_model 256, 4 heads, FFN 1024, vocabulary 8192,
 * batch 8 x 64, random weights): AD-DROP steps with gradient attribution over every encoder layer and with
 * integrated gradients (m = 20) of layer 0 and of every encoder layer, each in adjacent pairs with a plain
 * training step (encoder, decoder, LM head, loss, backward, AdamW; its time is reported too) and its ratio to
 * that step (median over pairs), and greedy generation of 32 tokens for 8 sources. Wall clock around completed
 * submits.
 *
 * @module
 */
import { CommandBatch } from "../src/gpu/encoder.ts";
import type { Gpu } from "../src/gpu/device.ts";
import { readMany } from "../src/gpu/readback.ts";
import { summarize } from "../src/gpu/timing.ts";
import { greedyGenerate, MarianModel, type MarianProgram, randomMarian } from "../src/model/marian.ts";
import { greedyGenerateCached } from "../src/model/marian_decode.ts";
import { beamSearch, beamSearchCached } from "../src/model/marian_beam.ts";
import { AdDropSeq2Seq } from "../src/pipeline/addrop_seq2seq.ts";
import { type AdDropOptions, adDropOptions } from "../src/pipeline/addrop.ts";
import { adamwSettings, Optimizer } from "../src/pipeline/optimizer.ts";
import { collatePairs } from "../src/pipeline/translate.ts";
import { type BenchCase, type BenchResult, millis, pairRatio, timePairs } from "./_util.ts";

const B = 8;
const T = 64;
const V = 8192;
const PAD = V - 1;
const RUNS = { warmup: 2, repeats: 7 };

async function setup(gpu: Gpu) {
  const loaded = await randomMarian(gpu, {
    vocab_size: V,
    d_model: 256,
    encoder_layers: 4,
    decoder_layers: 4,
    encoder_attention_heads: 4,
    decoder_attention_heads: 4,
    encoder_ffn_dim: 1024,
    decoder_ffn_dim: 1024,
    max_position_embeddings: 512,
  });
  const { store } = loaded;
  const model = await MarianModel.create(gpu, loaded, { maxBatch: B, maxLength: T });
  const opt = await Optimizer.create(
    gpu,
    store,
    adamwSettings({ adamEpsilon: 1e-8, weightDecay: 0.01, maxGradNorm: 1 }),
  );
  // Sources of T tokens and targets of T - 8, random ids ending with eos (0).
  const ids = (n: number, k: number) =>
    Array.from({ length: n }, (_, t) => (t === n - 1 ? 0 : 2 + ((k * 7919 + t * 104729) % (V - 3))));
  const pairs = Array.from({ length: B }, (_, b) => ({ source: ids(T, b), target: ids(T - 8, b + 100) }));
  const batch = collatePairs(pairs, PAD, PAD);
  return { model, opt, store, batch, sources: pairs.map((p) => p.source.slice(0, 24)) };
}

async function step(s: Awaited<ReturnType<typeof setup>>, prog: MarianProgram, i: number): Promise<void> {
  s.model.writeBatch(s.batch);
  s.model.setStep(1, i);
  s.opt.setStep(i + 1, 1e-4);
  new CommandBatch(s.model.gpu, "bench step")
    .run(...prog.encoderForward, ...prog.decoderForward, ...prog.loss, ...prog.backward, ...s.opt.step)
    .zero(s.store.grads)
    .submit();
  await readMany(s.model.gpu, [prog.lossValue]);
}

/** Plain steps and AD-DROP steps in adjacent pairs; the AD-DROP step's time and its ratio to the plain one. */
async function plainAndAdDrop(
  gpu: Gpu,
  name: string,
  ad: Partial<AdDropOptions>,
  runs = RUNS,
): Promise<BenchResult[]> {
  const s = await setup(gpu);
  const plain = await s.model.program(B, T, "train");
  const addrop = await AdDropSeq2Seq.create(
    s.model,
    adDropOptions({ p: 0.2, layers: "all", seed: 1, ...ad }),
  );
  let i = 0;
  const { first: plainMs, second: adMs } = await timePairs(
    () => step(s, plain, i++),
    async () => step(s, (await addrop.prepare(s.batch, i)).program, i++),
    runs,
  );
  addrop.destroy();
  s.model.destroy();
  s.opt.destroy();
  s.store.destroy();
  const ratio = pairRatio(
    `${name}_ratio`,
    "x plain",
    adMs,
    plainMs,
    "AD-DROP step / the plain step timed just before it",
  );
  const note = `B=${B} T=${T}; ${
    ratio.median.toFixed(3)
  }x the plain step timed just before it (median of ${adMs.length} pairs)`;
  return [
    millis(name, summarize(adMs, "wall-clock"), note),
    ratio,
    millis(`${name}_plain`, summarize(plainMs, "wall-clock"), `B=${B} T=${T}, the plain steps of the pairs`),
  ];
}

/**
 * Greedy generation of 32 tokens for 8 sources of 24 tokens (random weights: no eos, every step runs): the
 * full recomputation of the decoder at every step and the key/value cache, interleaved.
 */
async function generation(gpu: Gpu): Promise<BenchResult[]> {
  const s = await setup(gpu);
  const full: number[] = [];
  const cached: number[] = [];
  for (let k = 0; k < 4; k++) {
    const t0 = performance.now();
    await greedyGenerate(s.model, s.sources, { maxNewTokens: 32 });
    const t1 = performance.now();
    await greedyGenerateCached(s.model, s.sources, { maxNewTokens: 32 });
    const t2 = performance.now();
    if (k === 0) continue;
    full.push(t1 - t0);
    cached.push(t2 - t1);
  }
  // Beam search, 4 beams for 2 sources (8 rows), 32 steps (no eos with random weights).
  const beamFull: number[] = [];
  const beamCached: number[] = [];
  const two = s.sources.slice(0, 2);
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    await beamSearch(s.model, two, { numBeams: 4, maxNewTokens: 32 });
    const t1 = performance.now();
    await beamSearchCached(s.model, two, { numBeams: 4, maxNewTokens: 32 });
    const t2 = performance.now();
    if (k === 0) continue;
    beamFull.push(t1 - t0);
    beamCached.push(t2 - t1);
  }
  s.model.destroy();
  s.opt.destroy();
  s.store.destroy();
  const note = `${B} sources of 24 tokens, 32 steps`;
  return [
    millis(
      "marian_mini_greedy_32_tokens",
      summarize(full, "wall-clock"),
      `${note}, the decoder recomputed over 32 positions each step`,
    ),
    millis(
      "marian_mini_greedy_32_tokens_cached",
      summarize(cached, "wall-clock"),
      `${note}, key/value cache (one position per step)`,
    ),
    millis(
      "marian_mini_beam4_32_tokens",
      summarize(beamFull, "wall-clock"),
      "2 sources x 4 beams, 32 steps, recomputed",
    ),
    millis(
      "marian_mini_beam4_32_tokens_cached",
      summarize(beamCached, "wall-clock"),
      "2 sources x 4 beams, 32 steps, key/value cache",
    ),
  ];
}

export const benchmarks: BenchCase[] = [
  {
    name: "marian_mini_addrop_grad_all_step",
    run: (gpu) => plainAndAdDrop(gpu, "marian_mini_addrop_grad_all_step", { layers: "all" }),
  },
  {
    name: "marian_mini_addrop_ig_layer0_step",
    run: (gpu) =>
      plainAndAdDrop(gpu, "marian_mini_addrop_ig_layer0_step", { attribution: "ig", layers: [0] }, {
        warmup: 1,
        repeats: 3,
      }),
  },
  {
    name: "marian_mini_addrop_ig_all_step",
    run: (gpu) =>
      plainAndAdDrop(gpu, "marian_mini_addrop_ig_all_step", { attribution: "ig", layers: "all" }, {
        warmup: 1,
        repeats: 3,
      }),
  },
  { name: "marian_mini_greedy", run: generation },
];
