/**
 * Integrated gradients inside the training step (`AdDrop` with `ig`):
 * - golden: all examples of tests/fixtures/attribution as one padded batch, dropout off, layers 0 and 1 at
 *   once, m = 20, against the float64 PyTorch IG scores (the same fixture and tolerance attribute_run's IG is
 *   held to: 1e-3 of the example's largest |score| + 1e-3 relative), at each example's own n x n block;
 * - m = 1 is A * dF/dA, i.e. A times the `grad` attribution of the same step, with dropout on, also for token
 *   classification (F = -CE against the clean argmax labels);
 * - m = 3 with dropout on equals m whole forward passes with alpha (the partial passes from layer l, without
 *   its Q, K, V projection, must reproduce them, dropout masks included);
 * - a 2-step AD-DROP training run with `--attribution ig` finishes with finite losses.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { readExamples } from "../../src/data/examples.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, writeTensor } from "../../src/gpu/tensor.ts";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { type EncodedBatch, Encoder, type EncoderOptions } from "../../src/model/encoder.ts";
import { loadModel } from "../../src/model/model.ts";
import { buildAttributionBackward } from "../../src/model/program.ts";
import { loadTokenizer, padBatch } from "../../src/model/tokenizer.ts";
import { AdDrop, type AdDropOptions } from "../../src/pipeline/addrop.ts";
import { Optimizer } from "../../src/pipeline/optimizer.ts";
import { ProgramCache, TrainStep } from "../../src/pipeline/train_step.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";

const fixture = (p: string) => new URL(`../fixtures/${p}`, import.meta.url).pathname;
const AD: AdDropOptions = {
  attribution: "ig",
  p: 0.3,
  q: 0.2,
  layers: "all",
  selection: "high",
  igSteps: 20,
  seed: 7,
};

async function setup(gpu: Gpu, dir: string, batch: EncodedBatch, o: Partial<EncoderOptions>) {
  const model = await loadModel(gpu, dir);
  const enc = await Encoder.create(gpu, model.cfg, model.store, {
    maxBatch: batch.B,
    maxLength: batch.T,
    hiddenDropout: 0,
    attentionDropout: 0,
    classifierDropout: 0,
    ...o,
  });
  return { model, enc, programs: new ProgramCache(enc) };
}

/** Runs an AD-DROP attribution stage and reads each selected layer's scores (B, NH, T, T). */
async function scoresOf(
  enc: Encoder,
  programs: ProgramCache,
  batch: EncodedBatch,
  o: Partial<AdDropOptions>,
): Promise<Float32Array[]> {
  const addrop = await AdDrop.create(enc, programs, { ...AD, ...o });
  await addrop.prepare(batch, 3);
  const n = batch.B * enc.cfg.numHeads * batch.T * batch.T;
  const out = [];
  for (const l of addrop.layers) {
    // `attention` scores are the clean pass's probabilities themselves.
    const t = o.attribution === "attention" ? enc.layers[l].probs : addrop.buffers.get(l)!.scores;
    out.push(await readFloats(enc.gpu, t.view([n])));
  }
  addrop.destroy();
  return out;
}

for (const name of ["bert_seq_cls", "bert_regression"]) {
  gpuTest(`training IG matches PyTorch's IG (padded batch, layers 0+1): ${name}`, async (gpu) => {
    const tok = await loadTokenizer(fixture(name), { maxLength: 128 });
    const encodings = [];
    const labels: number[] = [];
    for await (const ex of readExamples(fixture(`attribution/${name}.jsonl`), { requireLabel: false })) {
      encodings.push(tok.encode(ex.text, ex.textPair ?? null));
      labels.push(Number(ex.label ?? 0));
    }
    const padded = padBatch(encodings, tok.padId);
    const batch: EncodedBatch = { ...padded, labels: name === "bert_regression" ? labels : undefined };
    const { model, enc, programs } = await setup(gpu, fixture(name), batch, {});
    const expected = await openSafetensors(fixture(`attribution/${name}.safetensors`));
    try {
      const got = await scoresOf(enc, programs, batch, {});
      const { T } = batch;
      const NH = model.cfg.numHeads;
      for (const [l, scores] of got.entries()) {
        for (const [b, e] of encodings.entries()) {
          const n = e.ids.length;
          assertEquals(Array.from(await expected.get(`${b}.input_ids`)), e.ids, `${name} #${b} ids`);
          const want = await expected.get(`${b}.ig.${l}`);
          const mine = new Float32Array(NH * n * n);
          for (let h = 0; h < NH; h++) {
            for (let i = 0; i < n; i++) {
              const at = ((b * NH + h) * T + i) * T;
              mine.set(scores.subarray(at, at + n), (h * n + i) * n);
            }
          }
          const top = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
          assertClose(mine, want, { atol: 1e-3 * top, rtol: 1e-3, name: `${name} #${b} ig layer ${l}` });
        }
      }
    } finally {
      expected.close();
      enc.destroy();
      model.store.destroy();
    }
  });
}

/** Two padded rows of random ids (with type ids and labels for the head in question). */
function randomBatch(vocab: number, T: number, token: boolean, L: number): EncodedBatch {
  const lengths = [T, T - 3];
  const ids: number[] = [];
  const mask: number[] = [];
  const labels: number[] = [];
  let s = 12345;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const n of lengths) {
    for (let t = 0; t < T; t++) {
      ids.push(t < n ? 5 + Math.floor(next() * (vocab - 5)) : 0);
      mask.push(t < n ? 1 : 0);
      if (token) labels.push(t > 0 && t < n - 1 ? Math.floor(next() * L) : -100);
    }
    if (!token) labels.push(Math.floor(next() * L));
  }
  return {
    B: 2,
    T,
    inputIds: ids,
    attentionMask: mask,
    tokenTypeIds: ids.map(() => 0),
    labels,
  };
}

for (const name of ["bert_seq_cls", "electra_tok_cls"]) {
  gpuTest(`training IG with m = 1 is A * grad, dropout on: ${name}`, async (gpu) => {
    const model = await loadModel(gpu, fixture(name));
    const token = model.cfg.head === "token_classification";
    const batch = randomBatch(model.cfg.vocabSize, 9, token, model.cfg.numLabels);
    model.store.destroy();
    const { enc, programs, model: m2 } = await setup(gpu, fixture(name), batch, {
      hiddenDropout: 0.2,
      attentionDropout: 0.2,
      classifierDropout: 0.2,
    });
    try {
      const ig = await scoresOf(enc, programs, batch, { igSteps: 1 });
      const grad = await scoresOf(enc, programs, batch, { attribution: "grad" });
      const probs = await scoresOf(enc, programs, batch, { attribution: "attention" });
      for (const l of [0, 1]) {
        const want = grad[l].map((g, i) => g * probs[l][i]);
        const top = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        if (!(top > 0)) {
          throw new Error(`${name}: layer ${l} A * grad is all zero; the test would prove nothing`);
        }
        assertClose(ig[l], want, { atol: 1e-5 * top, rtol: 1e-4, name: `${name} ig(m=1) layer ${l}` });
      }
    } finally {
      enc.destroy();
      m2.store.destroy();
    }
  });
}

gpuTest(
  "training IG (m = 3, dropout on) equals m full scaled passes with the clean dropout masks",
  async (gpu) => {
    const m = 3;
    const model = await loadModel(gpu, fixture("bert_seq_cls"));
    const batch = randomBatch(model.cfg.vocabSize, 9, false, model.cfg.numLabels);
    model.store.destroy();
    const { enc, programs, model: m2 } = await setup(gpu, fixture("bert_seq_cls"), batch, {
      hiddenDropout: 0.2,
      attentionDropout: 0.2,
      classifierDropout: 0.2,
    });
    const { B, T } = batch;
    const NH = m2.cfg.numHeads;
    const n = B * NH * T * T;
    const alpha = await createTensor(gpu, [B], "f32");
    const dlogits = await createTensor(gpu, [B, m2.cfg.numLabels], "f32");
    const out = await createTensor(gpu, [B, NH, T, T], "f32");
    try {
      const ig = await scoresOf(enc, programs, batch, { igSteps: m });
      for (const l of [0, 1]) {
        // The straightforward way: a whole forward per scale with alpha on layer l, the same random step as
        // AdDrop.prepare(batch, 3), F = the clean pass's pseudo-label logit.
        const prog = await programs.custom(`alpha${l}`, B, T, {
          mode: "train",
          alpha: { layer: l, tensor: alpha },
        });
        const back = await buildAttributionBackward(enc, prog, dlogits, l, new Map([[l, out]]), {
          mode: "train",
          alpha: { layer: l, tensor: alpha },
        });
        enc.writeBatch(batch);
        enc.setStep(AD.seed, (3 ^ 0x80000000) >>> 0);
        writeTensor(gpu, alpha, new Float32Array(B).fill(1));
        await runDispatches(gpu, prog.forward);
        const clean = await readFloats(gpu, prog.logits);
        const probs = await readFloats(gpu, enc.layers[l].probs.view([n]));
        const L = m2.cfg.numLabels;
        const onehot = new Float32Array(B * L);
        for (let b = 0; b < B; b++) {
          const row = Array.from(clean.subarray(b * L, (b + 1) * L));
          onehot[b * L + row.indexOf(Math.max(...row))] = 1;
        }
        writeTensor(gpu, dlogits, onehot);
        const sum = new Float64Array(n);
        for (let k = 1; k <= m; k++) {
          writeTensor(gpu, alpha, new Float32Array(B).fill(k / m));
          await runDispatches(gpu, [...prog.forward, ...back]);
          (await readFloats(gpu, out)).forEach((x, i) => (sum[i] += x));
        }
        const want = Float32Array.from(sum, (x, i) => (probs[i] * x) / m);
        const top = want.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
        if (!(top > 0)) throw new Error(`layer ${l}: all-zero reference scores`);
        assertClose(ig[l], want, { atol: 1e-5 * top, rtol: 1e-4, name: `ig (m = ${m}) layer ${l}` });
      }
    } finally {
      for (const t of [alpha, dlogits, out]) t.destroy();
      enc.destroy();
      m2.store.destroy();
    }
  },
);

gpuTest("two AD-DROP training steps with ig (layers all, m = 4)", async (gpu) => {
  const batch = randomBatch(90, 10, false, 3);
  const { model, enc, programs } = await setup(gpu, fixture("bert_seq_cls"), batch, {
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
  });
  const optimizer = await Optimizer.create(gpu, model.store, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.01,
    maxGradNorm: 1,
  });
  const stepper = new TrainStep(enc, programs, optimizer, 1, 1);
  const addrop = await AdDrop.create(enc, programs, { ...AD, igSteps: 4, q: 1 });
  try {
    for (let i = 0; i < 2; i++) {
      const program = await addrop.prepare(batch, i);
      const mask = await readFloats(gpu, addrop.buffers.get(1)!.mask.view([batch.B * 4 * batch.T * batch.T]));
      // q = 1 drops every candidate: some positions are masked.
      if (!mask.some((x) => x < 0)) throw new Error(`step ${i}: the ig mask drops nothing`);
      const stats = await stepper.run(batch, i, { program, optimizerStep: i + 1, lr: 1e-3 });
      if (!stats || !Number.isFinite(stats.loss) || !Number.isFinite(stats.gradNorm)) {
        throw new Error(`step ${i}: loss ${stats?.loss}, gradient norm ${stats?.gradNorm}`);
      }
    }
  } finally {
    addrop.destroy();
    optimizer.destroy();
    enc.destroy();
    model.store.destroy();
  }
});
