/**
 * Golden tests of the Marian translation model against the PyTorch reference of
 * scripts/make_marian_fixtures.py: encoder and decoder hidden states, logits and loss (1e-4), every parameter
 * gradient (1e-3 relative), and greedy generation ids; plus config and weight errors.
 */
import assert from "node:assert/strict";
import { CommandBatch } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { pseudoLabelGrad } from "../../src/kernels/pseudo_label.ts";
import {
  buildMarianIntegratedGradients,
  createMarianIgBuffers,
  destroyMarianIgBuffers,
} from "../../src/pipeline/marian_ig.ts";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { ConfigError } from "../../src/model/config.ts";
import { greedyGenerate, loadMarian, MarianModel, randomMarian } from "../../src/model/marian.ts";
import { parseMarianConfig } from "../../src/model/marian_config.ts";
import { sinusoidalPositions } from "../../src/model/marian_weights.ts";
import { readGrads } from "../../src/model/model.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { AdDropSeq2Seq } from "../../src/pipeline/addrop_seq2seq.ts";
import { watchBindings } from "../_util/bindings.ts";
import { InputError } from "../../src/io/input_error.ts";

const DIR = new URL("../fixtures/marian", import.meta.url).pathname;

/** Rows of (B, T, n) restricted to the first `t` positions of each example. */
function firstPositions(x: Float32Array, B: number, T: number, n: number, t: number): Float32Array {
  const out = new Float32Array(B * t * n);
  for (let b = 0; b < B; b++) out.set(x.subarray(b * T * n, (b * T + t) * n), b * t * n);
  return out;
}

/** (B, Tt) padded to (B, T) with `fill`. */
function widen(x: Float32Array, B: number, Tt: number, T: number, fill: number): number[] {
  const out = new Array(B * T).fill(fill);
  for (let b = 0; b < B; b++) for (let t = 0; t < Tt; t++) out[b * T + t] = x[b * Tt + t];
  return out;
}

/** The fixture's model without dropout, its batch (sources and targets padded to T) written. */
async function goldenModel(gpu: Gpu) {
  const loaded = await loadMarian(gpu, DIR);
  const e = await openSafetensors(`${DIR}/expected.safetensors`);
  const [B, Ts] = e.info("input_ids").shape;
  const Tt = e.info("labels").shape[1];
  const T = Math.max(Ts, Tt);
  const pad = loaded.cfg.padTokenId;
  const m = await MarianModel.create(gpu, loaded, {
    maxBatch: B,
    maxLength: T,
    dropout: 0,
    attentionDropout: 0,
  });
  const batch = {
    B,
    T,
    inputIds: widen(await e.get("input_ids"), B, Ts, T, pad),
    attentionMask: widen(await e.get("attention_mask"), B, Ts, T, 0),
    decoderInputIds: widen(await e.get("decoder_input_ids"), B, Tt, T, pad),
    labels: widen(await e.get("labels"), B, Tt, T, -100),
  };
  m.writeBatch(batch);
  m.setStep(1, 0);
  return { loaded, e, m, B, Ts, Tt, T, batch };
}

gpuTest("marian matches PyTorch: hidden states, logits, loss, every gradient", async (gpu) => {
  const { loaded, e, m, B, Ts, Tt, T } = await goldenModel(gpu);
  const C = loaded.cfg.hiddenSize;
  const V = loaded.cfg.vocabSize;
  const prog = await m.program(B, T, "train");
  const cmd = new CommandBatch(gpu, "golden");
  cmd.zero(loaded.store.grads);
  cmd.run(...prog.encoderForward, ...prog.decoderForward, ...prog.loss, ...prog.backward).submit();
  await gpu.sync();
  const close = { atol: 1e-4, rtol: 1e-4 };
  assertClose(
    firstPositions(await readFloats(gpu, prog.encOut), B, T, C, Ts),
    await e.get("enc_hidden.2"),
    { ...close, name: "encoder output" },
  );
  assertClose(
    firstPositions(await readFloats(gpu, prog.logits), B, T, V, Tt),
    await e.get("logits"),
    { ...close, name: "logits" },
  );
  assertClose(await readFloats(gpu, prog.lossValue), await e.get("loss"), {
    atol: 1e-5,
    rtol: 1e-4,
    name: "loss",
  });
  const grads = await readGrads(gpu, loaded.store, loaded.specs);
  for (const [i, spec] of loaded.specs.entries()) {
    const want = new Float32Array(grads[i].length);
    let at = 0;
    for (const p of spec.parts ?? [spec.name]) {
      const g = await e.get(`grad.${p}`);
      want.set(g, at);
      at += g.length;
    }
    const scale = want.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    assertClose(grads[i], want, { atol: 1e-3 * scale + 1e-7, rtol: 1e-3, name: `grad ${spec.name}` });
  }
  e.close();
  m.destroy();
  loaded.store.destroy();
});

gpuTest(
  "marian greedy generation gives PyTorch's ids (bad words, eos, forced eos at the last step)",
  async (gpu) => {
    const loaded = await loadMarian(gpu, DIR);
    const e = await openSafetensors(`${DIR}/expected.safetensors`);
    const [B, Ts] = e.info("input_ids").shape;
    const ids = await e.get("input_ids");
    const mask = await e.get("attention_mask");
    const sources = Array.from({ length: B }, (_, b) => {
      const row: number[] = [];
      for (let t = 0; t < Ts; t++) if (mask[b * Ts + t]) row.push(ids[b * Ts + t]);
      return row;
    });
    const [, G] = e.info("generated").shape;
    const generated = await e.get("generated");
    const m = await MarianModel.create(gpu, loaded, { maxBatch: B, maxLength: 16 });
    const got = await greedyGenerate(m, sources, { maxNewTokens: G - 1 });
    const want = Array.from({ length: B }, (_, b) => {
      const row = Array.from(generated.subarray(b * G + 1, (b + 1) * G));
      const end = row.indexOf(loaded.cfg.eosTokenId);
      return end < 0 ? row : row.slice(0, end + 1);
    });
    assert.deepEqual(got, want);
    e.close();
    m.destroy();
    loaded.store.destroy();
  },
);

Deno.test("marian config: swish maps to silu, unsupported settings are refused by field", () => {
  const base = {
    model_type: "marian",
    d_model: 16,
    vocab_size: 10,
    pad_token_id: 9,
    decoder_start_token_id: 9,
  };
  const cfg = parseMarianConfig({ ...base, activation_function: "swish" });
  assert.equal(cfg.activation, "silu");
  assert.deepEqual(cfg.badWordIds, [9]);
  assert.throws(
    () => parseMarianConfig({ ...base, activation_dropout: 0.1, share_encoder_decoder_embeddings: false }),
    (err: unknown) =>
      err instanceof ConfigError && /activation_dropout = 0.1/.test(err.message) &&
      /share_encoder_decoder_embeddings = false/.test(err.message),
  );
  assert.throws(
    () => parseMarianConfig({ ...base, encoder_attention_heads: 3 }),
    /encoder_attention_heads = 3: expected a divisor of d_model \(16\)/,
  );
  assert.throws(() => parseMarianConfig({ ...base, pad_token_id: 10 }), /pad_token_id = 10/);
});

Deno.test("sinusoidal positions: HF's layout (sin of every frequency, then cos)", () => {
  const t = sinusoidalPositions(3, 4);
  // pos 2: angles 2 / 10000^0 = 2 and 2 / 10000^(2/4) = 0.02.
  assertClose(t.subarray(8, 12), [Math.sin(2), Math.sin(0.02), Math.cos(2), Math.cos(0.02)], { atol: 1e-7 });
  assertClose(t.subarray(0, 4), [0, 0, 1, 1], { atol: 0 });
});

/** A random Marian (2 + 2 layers, d_model 16, vocabulary 128) with a batch of 3 x 32 tokens written. */
async function randomMarianBatch(gpu: Gpu) {
  const V = 128, B = 3, T = 32, PAD = V - 1;
  const loaded = await randomMarian(gpu, {
    vocab_size: V,
    d_model: 16,
    encoder_layers: 2,
    decoder_layers: 2,
    encoder_attention_heads: 4,
    decoder_attention_heads: 4,
    encoder_ffn_dim: 24,
    decoder_ffn_dim: 24,
    max_position_embeddings: 64,
    dropout: 0,
    attention_dropout: 0,
  }, { std: 0.5 });
  const m = await MarianModel.create(gpu, loaded, { maxBatch: B, maxLength: T });
  const id = (b: number, t: number) => 1 + ((b * 31 + t * 17) % (V - 2));
  // Sources of 32, 25 and 18 tokens; targets of 20, 32 and 9 (the rest padding, labels -100).
  const srcLen = [32, 25, 18], tgtLen = [20, 32, 9];
  const grid = (f: (b: number, t: number) => number) =>
    Array.from({ length: B * T }, (_, k) => f(Math.floor(k / T), k % T));
  const batch = {
    B,
    T,
    inputIds: grid((b, t) => t < srcLen[b] ? id(b, t) : PAD),
    attentionMask: grid((b, t) => t < srcLen[b] ? 1 : 0),
    decoderInputIds: grid((b, t) => t === 0 ? PAD : t < tgtLen[b] ? id(b + 5, t - 1) : PAD),
    labels: grid((b, t) => t < tgtLen[b] ? id(b + 5, t) : -100),
  };
  m.writeBatch(batch);
  m.setStep(1, 0);
  return { loaded, m, B, T, batch };
}

/**
 * One training step (forward, loss, backward) and a grad-attribution AD-DROP preparation of
 * {@linkcode randomMarianBatch}: the loss, the logits, every parameter gradient, the attribution scores of layer 0.
 */
async function stepOutputs(gpu: Gpu) {
  const { loaded, m, B, T, batch } = await randomMarianBatch(gpu);
  const prog = await m.program(B, T, "train");
  const cmd = new CommandBatch(gpu, "step");
  cmd.zero(loaded.store.grads);
  cmd.run(...prog.encoderForward, ...prog.decoderForward, ...prog.loss, ...prog.backward).submit();
  const out = {
    loss: await readFloats(gpu, prog.lossValue),
    logits: await readFloats(gpu, prog.logits),
    grads: await readGrads(gpu, loaded.store, loaded.specs),
    scores: new Float32Array() as Float32Array<ArrayBufferLike>,
  };
  const addrop = await AdDropSeq2Seq.create(m, {
    attribution: "grad",
    p: 0.5,
    q: 0.5,
    layers: [0],
    selection: "high",
    igSteps: 2,
    seed: 3,
  });
  await addrop.prepare(batch, 0);
  out.scores = await readFloats(gpu, addrop.buffers.get(0)!.scores);
  addrop.destroy();
  m.destroy();
  loaded.store.destroy();
  return out;
}

gpuTest(
  "marian: logits above the binding limit are bound in row blocks; loss, gradients and attribution unchanged",
  async (gpu) => {
    const whole = await stepOutputs(gpu);
    // 32 KiB holds every weight and 64 rows of logits (the smallest aligned block of the per-row losses), but
    // not the 96 x 128 logits: the LM head's products, the loss and the pseudo-labels run in row blocks.
    const limit = 32768;
    const split = await withGpu({ maxBindingBytes: limit }, async (small) => {
      const watch = watchBindings(small);
      const out = await stepOutputs(small);
      assert.ok(watch.max <= small.maxBindingBytes, `largest binding ${watch.max} (${watch.label})`);
      return out;
    });
    assert.ok(
      whole.logits.length * 4 > limit,
      `logits of ${whole.logits.length * 4} bytes must exceed the limit`,
    );
    assertClose(split.loss, whole.loss, { atol: 0, rtol: 1e-6, name: "loss" });
    assertClose(split.logits, whole.logits, { atol: 1e-6, rtol: 1e-5, name: "logits" });
    for (const [i, g] of whole.grads.entries()) {
      const scale = g.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      assertClose(split.grads[i], g, { atol: 1e-5 * scale + 1e-9, rtol: 1e-4, name: `grad ${i}` });
    }
    const scale = whole.scores.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    assert.ok(scale > 0, "the attribution scores are all zero");
    assertClose(split.scores, whole.scores, { atol: 1e-5 * scale, rtol: 1e-4, name: "scores" });
  },
);

gpuTest(
  "marian: logits above the adapter's largest buffer are refused up front, naming the sizes",
  async (gpu) => {
    const loaded = await loadMarian(gpu, DIR);
    const V = loaded.cfg.vocabSize, T = 64;
    const max = gpu.device.limits.maxBufferSize;
    const B = Math.floor(max / (T * V * 4)) + 1;
    await assert.rejects(
      MarianModel.create(gpu, loaded, { maxBatch: B, maxLength: T }),
      (e: unknown) =>
        e instanceof InputError &&
        e.message.includes(`batch ${B} x length ${T} x vocabulary ${V} logits take ${B * T * V * 4} bytes`) &&
        e.message.includes(`largest buffer of ${max} bytes`) &&
        e.message.includes(`batch x length <= ${Math.floor(max / (4 * V))}`),
    );
    loaded.store.destroy();
  },
);

gpuTest(
  "marian: a shared embedding above the binding limit is refused up front, naming its size",
  async () => {
    await withGpu({ maxBindingBytes: 2048 }, async (small) => {
      const loaded = await loadMarian(small, DIR);
      await assert.rejects(
        MarianModel.create(small, loaded, { maxBatch: 1, maxLength: 4 }),
        (e: unknown) =>
          e instanceof InputError &&
          e.message.includes("shared embedding (vocabulary 48 x d_model 16) takes 3072 bytes") &&
          e.message.includes("binding limit of 2048 bytes"),
      );
      loaded.store.destroy();
    });
  },
);

gpuTest(
  "marian attribution: dF/dA of every encoder layer (F = -CE against the argmax) matches PyTorch",
  async (gpu) => {
    const { loaded, e, m, B, T } = await goldenModel(gpu);
    const want = await openSafetensors(`${DIR}/attribution.safetensors`);
    const { vocabSize: V, encoderHeads: NH } = loaded.cfg;
    const dlogits = await createTensor(gpu, [B * T, V]);
    const dprobs = new Map([0, 1].map((l) => [l, createTensor(gpu, [B, NH, T, T])] as const));
    const resolved = new Map(await Promise.all([...dprobs].map(async ([l, t]) => [l, await t] as const)));
    const prog = await m.program(B, T, "eval", { attribution: { dlogits, dprobs: resolved } }, "test");
    const cmd = new CommandBatch(gpu, "attribution");
    cmd.run(
      ...prog.encoderForward,
      ...prog.decoderForward,
      await pseudoLabelGrad(gpu, { dlogits, logits: prog.logits, targets: m.inputs.targets.view([B * T]) }, {
        rows: B * T,
        L: V,
        mode: "negative_ce",
      }),
      ...prog.attributionBackward,
    ).submit();
    await gpu.sync();
    for (const [l, t] of resolved) {
      const expected = await want.get(`dprobs.${l}`);
      const scale = expected.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      // Ts = T here, so the (B, NH, T, T) layouts coincide.
      assertClose(await readFloats(gpu, t), expected, {
        atol: 1e-3 * scale,
        rtol: 1e-3,
        name: `dprobs.${l}`,
      });
      t.destroy();
    }
    dlogits.destroy();
    e.close();
    want.close();
    m.destroy();
    loaded.store.destroy();
  },
);

gpuTest("marian integrated gradients (m = 20) of each encoder layer match PyTorch", async (gpu) => {
  const { loaded, e, m, B, T } = await goldenModel(gpu);
  const want = await openSafetensors(`${DIR}/attribution.safetensors`);
  const steps = (await want.get("ig_steps"))[0];
  const { vocabSize: V, encoderHeads: NH } = loaded.cfg;
  const dlogits = await createTensor(gpu, [B * T, V]);
  const ig = await createMarianIgBuffers(m);
  for (const l of [0, 1]) {
    const scores = await createTensor(gpu, [B, NH, T, T]);
    const prog = await m.program(
      B,
      T,
      "eval",
      { attribution: { dlogits, dprobs: new Map([[l, scores]]) } },
      `ig${l}`,
    );
    const cmd = new CommandBatch(gpu, "ig");
    cmd.run(
      ...prog.encoderForward,
      ...prog.decoderForward,
      ...await buildMarianIntegratedGradients(m, prog, [l], new Map([[l, scores]]), dlogits, ig, {
        steps,
        mode: "eval",
        key: "test",
      }),
    ).submit();
    const expected = await want.get(`ig.${l}`);
    const scale = expected.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    assertClose(await readFloats(gpu, scores), expected, { atol: 1e-3 * scale, rtol: 1e-3, name: `ig.${l}` });
    scores.destroy();
  }
  // The scaled passes start at encoder layer l; a start past the encoder is refused by name.
  const L = loaded.cfg.encoderLayers;
  await assert.rejects(
    () => m.program(B, T, "eval", { encoderFrom: L }, "bad"),
    new RegExp(`encoderFrom = ${L}`),
  );
  destroyMarianIgBuffers(ig);
  dlogits.destroy();
  e.close();
  want.close();
  m.destroy();
  loaded.store.destroy();
});
