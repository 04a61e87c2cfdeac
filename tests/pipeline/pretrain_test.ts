/**
 * Masked-language-model pretraining: the MLM head's forward, loss and every gradient (the tied decoder's added
 * into the word-embedding gradient) against a float64 CPU forward and its central finite differences; BERT's
 * masking statistics; a short pretraining run whose loss goes down, continued from its weights (`initFrom`),
 * resumed bit-exactly (2 + 2 steps = 4), and fine-tuning's load of the result.
 */
import assert from "node:assert/strict";
import { countWords, trainWordPiece } from "../../src/data/wordpiece.ts";
import { tokenizerConfig, tokenizerJson, vocabTxt } from "../../src/data/tokenizer_files.ts";
import { CommandBatch } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, writeTensor } from "../../src/gpu/tensor.ts";
import { parseConfig } from "../../src/model/config.ts";
import * as mlm from "../../src/model/mlm_head.ts";
import { loadModel } from "../../src/model/model.ts";
import { ParamStore } from "../../src/model/param_store.ts";
import { maskTokens } from "../../src/pipeline/mlm_mask.ts";
import { pretrain, type PretrainOptions, type PretrainRecord } from "../../src/pipeline/pretrain.ts";
import { activate } from "../../src/reference/activation.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

// ---- MLM head against a float64 CPU forward and finite differences -------------------------------------

const C = 8, V = 11, B = 2, T = 14, N = B * T, EPS = 1e-12;
const NAMES = mlm.mlmNames("bert");

interface HeadParams {
  x: Float64Array;
  W: Float64Array;
  b: Float64Array;
  g: Float64Array;
  be: Float64Array;
  wte: Float64Array;
  bias: Float64Array;
}

/** Mean cross-entropy of the head over the labelled positions (row-major), and the logits of each. */
function cpuHead(p: HeadParams, labels: Int32Array): { loss: number; logits: number[][] } {
  let loss = 0;
  const logits: number[][] = [];
  for (let n = 0; n < N; n++) {
    if (labels[n] === -100) continue;
    const a = new Float64Array(C);
    for (let o = 0; o < C; o++) {
      let s = p.b[o];
      for (let i = 0; i < C; i++) s += p.W[o * C + i] * p.x[n * C + i];
      a[o] = activate("gelu", s);
    }
    const mu = a.reduce((s, v) => s + v, 0) / C;
    const vr = a.reduce((s, v) => s + (v - mu) ** 2, 0) / C;
    const h = Array.from(a, (v, c) => ((v - mu) / Math.sqrt(vr + EPS)) * p.g[c] + p.be[c]);
    const z = Array.from(
      { length: V },
      (_, v) => h.reduce((s, hc, c) => s + hc * p.wte[v * C + c], p.bias[v]),
    );
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, zv) => s + Math.exp(zv - m), 0));
    loss += lse - z[labels[n]];
    logits.push(z);
  }
  return { loss: loss / logits.length, logits };
}

gpuTest("MLM head forward, loss and gradients (tied decoder) against CPU finite differences", async (gpu) => {
  const rng = new Rng(7);
  const f64 = (n: number, scale = 1) => Float64Array.from(rng.floats(n), (v) => v * scale);
  const p: HeadParams = {
    x: f64(N * C),
    W: f64(C * C, 0.5),
    b: f64(C, 0.1),
    g: Float64Array.from(rng.floats(C, 0.5, 1.5)),
    be: f64(C, 0.1),
    wte: f64(V * C),
    bias: f64(V, 0.1),
  };
  const labels = new Int32Array(N).fill(-100);
  for (const [n, id] of [[0, 3], [5, 7], [13, 1], [14, 10], [20, 3]]) labels[n] = id;
  assert.deepEqual(mlm.mlmSlots(B, T), 6); // 5 labelled rows and one padding slot

  const cfg = parseConfig({
    model_type: "bert",
    hidden_size: C,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 16,
    vocab_size: V,
    architectures: ["BertForMaskedLM"],
  });
  const specs = [
    { name: NAMES.wte, shape: [V, C], decay: true },
    { name: `${NAMES.dense}.weight`, shape: [C, C], decay: true },
    { name: `${NAMES.dense}.bias`, shape: [C], decay: false },
    { name: `${NAMES.ln}.weight`, shape: [C], decay: false },
    { name: `${NAMES.ln}.bias`, shape: [C], decay: false },
    { name: NAMES.bias, shape: [V], decay: false },
  ];
  const store = await ParamStore.create(gpu, specs);
  store.upload(gpu, [p.wte, p.W, p.b, p.g, p.be, p.bias].map((a) => new Float32Array(a)));
  // The word-embedding gradient already holds the embedding backward's share: the decoder's must add to it.
  const wteGrad0 = rng.floats(V * C);
  writeTensor(gpu, store.grad(NAMES.wte), wteGrad0);
  const m = await mlm.allocateMlm(gpu, cfg, B, T);
  const x = await createTensor(gpu, [N, C], "f32", { data: new Float32Array(p.x) });
  const dx = await createTensor(gpu, [N, C], "f32", { data: rng.floats(N * C) });
  mlm.writeMlmLabels(gpu, m, labels, B, T);
  const d: mlm.MlmDims = { B, T, C, V, eps: EPS, act: "gelu", prefix: "bert" };
  const cmd = new CommandBatch(gpu, "mlm head");
  cmd.run(
    ...await mlm.mlmForward(gpu, store, x, m, d),
    ...await mlm.mlmLoss(gpu, m, d),
    ...await mlm.mlmBackward(gpu, store, m, { dlogits: m.dlogits, dx }, d),
  );
  cmd.submit();

  const want = cpuHead(p, labels);
  const logits = await readFloats(gpu, m.logits);
  assertClose(logits.subarray(0, 5 * V), Float64Array.from(want.logits.flat()), {
    atol: 1e-5,
    rtol: 1e-4,
    name: "logits",
  });
  assertClose(await readFloats(gpu, m.loss), [want.loss], { atol: 1e-6, rtol: 1e-5, name: "loss" });

  // Central differences of the float64 forward, parameter by parameter.
  const fd = (key: keyof HeadParams) => {
    const a = p[key];
    return Float64Array.from(a, (v, i) => {
      const h = 1e-5;
      a[i] = v + h;
      const up = cpuHead(p, labels).loss;
      a[i] = v - h;
      const down = cpuHead(p, labels).loss;
      a[i] = v;
      return (up - down) / (2 * h);
    });
  };
  const tol = { atol: 2e-6, rtol: 1e-4 };
  assertClose(await readFloats(gpu, dx), fd("x"), { ...tol, name: "dx (zeros at unmasked rows)" });
  assertClose(await readFloats(gpu, store.grad(`${NAMES.dense}.weight`)), fd("W"), { ...tol, name: "dW" });
  assertClose(await readFloats(gpu, store.grad(`${NAMES.dense}.bias`)), fd("b"), { ...tol, name: "db" });
  assertClose(await readFloats(gpu, store.grad(`${NAMES.ln}.weight`)), fd("g"), { ...tol, name: "dgamma" });
  assertClose(await readFloats(gpu, store.grad(`${NAMES.ln}.bias`)), fd("be"), { ...tol, name: "dbeta" });
  assertClose(await readFloats(gpu, store.grad(NAMES.bias)), fd("bias"), { ...tol, name: "dbias" });
  const dwte = fd("wte").map((v, i) => v + wteGrad0[i]);
  assertClose(await readFloats(gpu, store.grad(NAMES.wte)), dwte, { ...tol, name: "dwte (+= decoder)" });
  for (const t of [x, dx, ...Object.values(m)]) t.destroy();
  store.destroy();
});

// ---- Masking statistics --------------------------------------------------------------------------------

Deno.test("BERT masking: 15% of the non-special tokens, 80% [MASK] / 10% random / 10% unchanged", () => {
  const [Bm, Tm, Vm, MASK] = [64, 128, 1000, 4];
  const specials = [0, 1, 2, 3, 4];
  const rng = new Rng(3);
  let selected = 0, candidates = 0, masked = 0, random = 0, kept = 0;
  for (let step = 0; step < 16; step++) {
    const ids = new Int32Array(Bm * Tm);
    const att = new Int32Array(Bm * Tm);
    for (let b = 0; b < Bm; b++) {
      const len = 20 + rng.int(Tm - 20); // padded tail
      for (let t = 0; t < Tm; t++) {
        const n = b * Tm + t;
        att[n] = t < len ? 1 : 0;
        ids[n] = t >= len ? 0 : t === 0 ? 2 : t === len - 1 ? 3 : rng.int(10) === 0 ? 1 : 5 + rng.int(Vm - 5);
      }
    }
    const o = { maskId: MASK, vocabSize: Vm, specialIds: specials, seed: 11, step };
    const m = maskTokens(ids, att, { B: Bm, T: Tm }, o);
    assert.deepEqual(maskTokens(ids, att, { B: Bm, T: Tm }, o), m, "same seed and step: same masks");
    for (let b = 0; b < Bm; b++) {
      let n = 0, k = 0;
      for (let t = 0; t < Tm; t++) {
        const i = b * Tm + t;
        const special = !att[i] || specials.includes(ids[i]);
        if (special) {
          assert.deepEqual(m.labels[i], -100, `special or padding token ${ids[i]} at ${i} selected`);
          assert.deepEqual(m.inputIds[i], ids[i], `special or padding token at ${i} changed`);
          continue;
        }
        n++;
        if (m.labels[i] === -100) {
          assert.deepEqual(m.inputIds[i], ids[i], `unselected token at ${i} changed`);
          continue;
        }
        k++;
        assert.deepEqual(m.labels[i], ids[i]);
        if (m.inputIds[i] === MASK) masked++;
        else if (m.inputIds[i] === ids[i]) kept++;
        else {
          random++;
          assert(!specials.includes(m.inputIds[i]), `random replacement ${m.inputIds[i]} is special`);
        }
      }
      assert.deepEqual(k, Math.max(1, Math.round(0.15 * n)), `sequence ${b} of step ${step}: ${k} of ${n}`);
      selected += k;
      candidates += n;
    }
  }
  const share = (x: number) => x / selected;
  assert(Math.abs(selected / candidates - 0.15) < 0.005, `selected share ${selected / candidates}`);
  assert(selected > 9000, `only ${selected} selected`);
  assert(Math.abs(share(masked) - 0.8) < 0.015, `[MASK] share ${share(masked)}`);
  assert(Math.abs(share(random) - 0.1) < 0.01, `random share ${share(random)}`);
  assert(Math.abs(share(kept) - 0.1) < 0.01, `unchanged share ${share(kept)}`);
  const other = maskTokens(new Int32Array(Tm).fill(7), new Int32Array(Tm).fill(1), { B: 1, T: Tm }, {
    maskId: MASK,
    vocabSize: Vm,
    specialIds: specials,
    seed: 11,
    step: 1,
  });
  const first = maskTokens(new Int32Array(Tm).fill(7), new Int32Array(Tm).fill(1), { B: 1, T: Tm }, {
    maskId: MASK,
    vocabSize: Vm,
    specialIds: specials,
    seed: 11,
    step: 0,
  });
  assert(other.labels.some((l, i) => l !== first.labels[i]), "steps 0 and 1 drew the same positions");
});

// ---- A short run, resume, fine-tuning load -------------------------------------------------------------

const WORDS = [
  "the",
  "cat",
  "dog",
  "sat",
  "on",
  "a",
  "mat",
  "ran",
  "to",
  "red",
  "big",
  "house",
  "and",
  "saw",
];

async function tinySetup(dir: string): Promise<{ corpus: string; vocab: string }> {
  const rng = new Rng(5);
  const lines = Array.from({ length: 300 }, () => {
    const n = 4 + rng.int(8);
    return Array.from({ length: n }, (_, i) => WORDS[(i * 3 + rng.int(3)) % WORDS.length]).join(" ") + ".";
  });
  const corpus = `${dir}/corpus.txt`;
  await Deno.writeTextFile(corpus, lines.join("\n") + "\n");
  const counts = new Map<string, number>();
  for (const l of lines) countWords(l, { lowercase: true }, counts);
  const v = trainWordPiece(counts, { vocabSize: 60, minFrequency: 1 });
  const vocab = `${dir}/vocab`;
  await Deno.mkdir(vocab);
  const options = { lowercase: true, modelMaxLength: 32 };
  await Deno.writeTextFile(`${vocab}/vocab.txt`, vocabTxt(v.tokens));
  await Deno.writeTextFile(`${vocab}/tokenizer.json`, JSON.stringify(tokenizerJson(v.tokens, options)));
  await Deno.writeTextFile(
    `${vocab}/tokenizer_config.json`,
    JSON.stringify(tokenizerConfig(v.tokens, options)),
  );
  return { corpus, vocab };
}

gpuTest(
  "pretraining: the MLM loss goes down; 2 + 2 resumed steps equal 4; fine-tuning loads it",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_pretrain_" });
    try {
      const { corpus, vocab } = await tinySetup(dir);
      const base = (output: string, steps: number): PretrainOptions => ({
        corpus,
        vocab,
        output,
        hidden: 32,
        layers: 1,
        heads: 2,
        intermediate: 64,
        maxLength: 24,
        batchSize: 8,
        steps,
        learningRate: 3e-3,
        warmupRatio: 0.1,
        seed: 3,
        saveEvery: 2,
        logEvery: 5,
        maxPositions: 32,
      });
      const records: PretrainRecord[] = [];
      await pretrain(
        { ...base(`${dir}/long`, 120), logEvery: 10, saveEvery: 1000 },
        (e) => e.type === "log" && records.push(e.record),
      );
      assert.deepEqual(records.length, 12);
      // Accuracy over ~100 masked tokens per record is noisy: compare the last three records' mean.
      const [first, last] = [records[0], records.at(-1)!];
      const late = records.slice(-3).reduce((acc, r) => acc + r.mlm_accuracy, 0) / 3;
      assert(last.loss < first.loss - 0.5, `MLM loss ${first.loss} -> ${last.loss}`);
      assert(late > first.mlm_accuracy, `accuracy ${first.mlm_accuracy} -> ${late}`);

      // Continued pretraining starts from the trained weights (its first record is far below a fresh start's),
      // and refuses another vocabulary or other sizes.
      const cont: PretrainRecord[] = [];
      await pretrain(
        { ...base(`${dir}/cont`, 10), logEvery: 10, saveEvery: 1000, initFrom: `${dir}/long` },
        (e) => e.type === "log" && cont.push(e.record),
      );
      assert(cont[0].loss < first.loss - 0.5, `continued ${cont[0].loss} vs fresh ${first.loss}`);
      await assert.rejects(
        pretrain({ ...base(`${dir}/bad1`, 2), hidden: 16, initFrom: `${dir}/long` }),
        /tensor '[^']+' is (\d+)x32, the size options give \1x16/,
      );
      await Deno.mkdir(`${dir}/vocab2`);
      await Deno.writeTextFile(
        `${dir}/vocab2/vocab.txt`,
        (await Deno.readTextFile(`${vocab}/vocab.txt`)) + "zzz\n",
      );
      await assert.rejects(
        pretrain({ ...base(`${dir}/bad2`, 2), vocab: `${dir}/vocab2`, initFrom: `${dir}/long` }),
        /vocab\.txt differs/,
      );

      await pretrain(base(`${dir}/four`, 4));
      await pretrain({ ...base(`${dir}/split`, 4), stopAt: 2 });
      const state = JSON.parse(await Deno.readTextFile(`${dir}/split/trainer_state.json`));
      assert.deepEqual(state.step, 2);
      await pretrain({ ...base(`${dir}/split`, 4), resume: true });
      for (const f of ["model.safetensors", "optimizer.safetensors"]) {
        const a = await Deno.readFile(`${dir}/four/${f}`);
        const b = await Deno.readFile(`${dir}/split/${f}`);
        assert(a.length === b.length && a.every((x, i) => x === b[i]), `${f}: 2 + 2 steps differ from 4`);
      }

      const { requestGpu } = await import("../../src/gpu/device.ts");
      const gpu = await requestGpu();
      const tuned = await loadModel(gpu, `${dir}/four`, {
        head: "sequence_classification",
        labels: ["a", "b"],
      });
      assert.deepEqual(tuned.initialised, [
        "bert.pooler.dense.weight",
        "bert.pooler.dense.bias",
        "classifier.weight",
        "classifier.bias",
      ]);
      assert(tuned.unexpected.every((n) => n.startsWith("cls.predictions.")), `${tuned.unexpected}`);
      assert.deepEqual(tuned.unexpected.length, 5);
      tuned.store.destroy();
      gpu.destroy();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
