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
import { greedyGenerate, loadMarian, MarianModel } from "../../src/model/marian.ts";
import { parseMarianConfig } from "../../src/model/marian_config.ts";
import { sinusoidalPositions } from "../../src/model/marian_weights.ts";
import { readGrads } from "../../src/model/model.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import type { Gpu } from "../../src/gpu/device.ts";
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
  m.writeBatch({
    B,
    T,
    inputIds: widen(await e.get("input_ids"), B, Ts, T, pad),
    attentionMask: widen(await e.get("attention_mask"), B, Ts, T, 0),
    decoderInputIds: widen(await e.get("decoder_input_ids"), B, Tt, T, pad),
    labels: widen(await e.get("labels"), B, Tt, T, -100),
  });
  m.setStep(1, 0);
  return { loaded, e, m, B, Ts, Tt, T };
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

gpuTest(
  "marian: logits above the binding limit are refused up front, naming the sizes and the fix",
  async () => {
    await withGpu({ maxBindingBytes: 2048 }, async (small) => {
      const loaded = await loadMarian(small, DIR);
      // 3 x 7 x 48 logits = 4032 bytes > 2048.
      await assert.rejects(
        MarianModel.create(small, loaded, { maxBatch: 3, maxLength: 7 }),
        (e: unknown) =>
          e instanceof InputError &&
          /batch 3 x length 7 x vocabulary 48 logits take 4032 bytes/.test(e.message) &&
          /batch x length <= 10/.test(e.message),
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
