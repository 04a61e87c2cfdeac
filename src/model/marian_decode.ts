/**
 * Greedy generation with a key/value cache: the encoder runs once, each decoder layer's cross-attention keys and
 * values are projected once, and each step runs the decoder on one new position per example, its self-attention
 * keys and values appended to a per-layer cache (B, maxNewTokens, 2C) and attended by a single-query kernel
 * (`attention_decode.wgsl`). The same arithmetic as the full forward up to the order of the attention's sums; the
 * same generation rules as {@linkcode greedyGenerate} (bad words, eos, forced eos).
 *
 * Legend: B examples, Ts longest source, C hidden, NH heads, HS = C / NH, F feed-forward width, V vocabulary.
 *
 * @module
 */
import type { Dispatch } from "../gpu/encoder.ts";
import { CommandBatch } from "../gpu/encoder.ts";
import { readTensor } from "../gpu/readback.ts";
import { createTensor, type DType, type Tensor, writeTensor } from "../gpu/tensor.ts";
import { activationForward } from "../kernels/activation.ts";
import { attentionDecode } from "../kernels/attention_decode.ts";
import { copyColumns } from "../kernels/copy_columns.ts";
import { embeddingForward } from "../kernels/embedding.ts";
import { layernormForward } from "../kernels/layernorm.ts";
import { matmulForward } from "../kernels/matmul.ts";
import { pseudoLabelIds } from "../kernels/pseudo_label.ts";
import { residualForward } from "../kernels/residual.ts";
import { scale } from "../kernels/scale.ts";
import { checkGeneration, type MarianModel, sourceRows } from "./marian.ts";
import { marianDecoderNames, SHARED } from "./marian_weights.ts";

/**
 * Greedy decoding (transformers' `generate(num_beams=1)`) of `sources` with a key/value cache; returns each
 * example's ids after the start token, with the eos if it came.
 */
export async function greedyGenerateCached(
  m: MarianModel,
  sources: number[][],
  o: { maxNewTokens: number },
): Promise<number[][]> {
  const { gpu, store, cfg } = m;
  const B = sources.length;
  const Ts = checkGeneration(m, sources, o.maxNewTokens);
  const Tmax = o.maxNewTokens;
  const C = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const F = cfg.decoderFfn;
  const NH = cfg.decoderHeads;
  const HS = C / NH;
  const pad = cfg.padTokenId;
  using cleanup = new DisposableStack();
  const tensor = async (label: string, n: number, dtype: DType = "f32") => {
    const t = await createTensor(gpu, [n], dtype, { label });
    cleanup.defer(() => t.destroy());
    return t;
  };
  const L = cfg.decoderLayers;
  const crossKv: Tensor[] = [];
  const cache: Tensor[] = [];
  for (let l = 0; l < L; l++) {
    crossKv.push(await tensor(`cross k|v ${l}`, B * Ts * 2 * C));
    cache.push(await tensor(`self k|v cache ${l}`, B * Tmax * 2 * C));
  }
  const bc = (label: string) => tensor(label, B * C);
  const [xa, xb, ctx, attnOut, res, h1, qc, cctx, cattnOut, h2, fc2] = await Promise.all(
    ["x a", "x b", "ctx", "attn out", "residual", "h1", "cross q", "cross ctx", "cross out", "h2", "fc2"].map(
      bc,
    ),
  );
  const qkv = await tensor("qkv", B * 3 * C);
  const fc1 = await tensor("fc1", B * F);
  const act = await tensor("act", B * F);
  const mean = await tensor("mean", B);
  const rstd = await tensor("rstd", B);
  const logits = await tensor("logits", B * V);
  const selfMask = await tensor("self mask", B * Tmax);
  const tokIds = await tensor("token ids", B, "u32");
  const posIds = await tensor("position ids", B, "u32");
  const typeIds = await tensor("type ids", B, "u32");
  const idsOut = await tensor("next ids", B, "i32");
  const noIgnore = await tensor("rows", B, "i32");

  // The encoder, once, then each layer's cross-attention keys and values.
  const src = sourceRows(sources, 1, Ts, pad);
  const prog = await m.program(B, Ts, "eval");
  m.writeBatch({ B, T: Ts, inputIds: src.inputIds, attentionMask: src.mask, decoderInputIds: src.inputIds });
  m.setStep(0, 0);
  const w = (n: string) => store.param(`${n}.weight`);
  const b = (n: string) => store.param(`${n}.bias`);
  const names = Array.from({ length: L }, (_, l) => marianDecoderNames(l));
  const lin = (out: Tensor, inp: Tensor, n: string, K: number, N: number, M = B) =>
    matmulForward(gpu, { out, inp, weight: w(n), bias: b(n) }, { M, K, N });
  const ln = (out: Tensor, inp: Tensor, n: string) =>
    layernormForward(gpu, { out, mean, rstd, inp, weight: w(n), bias: b(n) }, {
      rows: B,
      C,
      eps: cfg.layerNormEps,
    });
  // Single-query attention over Tk of `rows` cached (key | value) rows of 2C per example, queries `qStride` apart.
  const heads = (Tk: number, qStride: number, rows: number) => ({
    B,
    NH,
    HS,
    Tk,
    qStride,
    qOffset: 0,
    kvBatch: rows * 2 * C,
    kvStride: 2 * C,
    kOffset: 0,
    vOffset: C,
    maskStride: rows,
    scale: 1 / Math.sqrt(HS),
  });
  const once: Dispatch[] = [...prog.encoderForward];
  for (let l = 0; l < L; l++) {
    once.push(...await lin(crossKv[l], prog.encOut, names[l].crossKv, C, 2 * C, B * Ts));
  }

  // One step, apart from the two dispatches per layer that depend on the position (cache write, self-attention).
  const embed: Dispatch[] = await embeddingForward(gpu, {
    out: xa,
    ids: tokIds,
    posIds,
    typeIds,
    wte: store.param(SHARED),
    wpe: m.buffers.pos,
    wtt: m.buffers.type,
  }, { N: B, C });
  if (cfg.scaleEmbedding) embed.push(await scale(gpu, { x: xa }, { s: Math.sqrt(C) }));
  const before: Dispatch[][] = [];
  const after: Dispatch[][] = [];
  for (let l = 0; l < L; l++) {
    const x = l % 2 === 0 ? xa : xb;
    const y = l % 2 === 0 ? xb : xa;
    const n = names[l];
    before.push(await lin(qkv, x, n.qkv, C, 3 * C));
    after.push([
      ...await lin(attnOut, ctx, n.attnOut, C, C),
      await residualForward(gpu, { out: res, inp1: attnOut, inp2: x }),
      await ln(h1, res, n.ln1),
      ...await lin(qc, h1, n.crossQ, C, C),
      await attentionDecode(
        gpu,
        { out: cctx, q: qc, kv: crossKv[l], mask: m.inputs.srcKeyMask },
        heads(Ts, C, Ts),
      ),
      ...await lin(cattnOut, cctx, n.crossOut, C, C),
      await residualForward(gpu, { out: res, inp1: cattnOut, inp2: h1 }),
      await ln(h2, res, n.ln2),
      ...await lin(fc1, h2, n.fc1, C, F),
      await activationForward(gpu, { out: act, inp: fc1 }, { kind: cfg.activation }),
      ...await lin(fc2, act, n.fc2, F, C),
      await residualForward(gpu, { out: res, inp1: fc2, inp2: h2 }),
      await ln(y, res, n.ln3),
    ]);
  }
  const top = L % 2 === 0 ? xa : xb;
  const head: Dispatch[] = [
    ...await matmulForward(gpu, {
      out: logits,
      inp: top,
      weight: store.param(SHARED),
      bias: m.buffers.genBias,
    }, {
      M: B,
      K: C,
      N: V,
    }),
    await pseudoLabelIds(gpu, { labels: idsOut, logits, targets: noIgnore }, { rows: B, L: V }),
  ];
  const at = async (t: number, l: number): Promise<Dispatch[]> => [
    await copyColumns(gpu, { out: cache[l], inp: qkv }, {
      rows: B,
      width: 2 * C,
      outStride: Tmax * 2 * C,
      outOffset: t * 2 * C,
      inpStride: 3 * C,
      inpOffset: C,
    }),
    await attentionDecode(gpu, { out: ctx, q: qkv, kv: cache[l], mask: selfMask }, heads(t + 1, 3 * C, Tmax)),
  ];

  const out: number[][] = Array.from({ length: B }, () => []);
  const done = new Array(B).fill(false);
  const tokens = new Uint32Array(B).fill(cfg.decoderStartTokenId);
  for (let t = 0; t < o.maxNewTokens && done.includes(false); t++) {
    writeTensor(gpu, tokIds, tokens);
    writeTensor(gpu, posIds, new Uint32Array(B).fill(t));
    const cmd = new CommandBatch(gpu, "generate (cached)");
    if (t === 0) cmd.run(...once);
    cmd.run(...embed);
    const stepOnly: Dispatch[] = [];
    for (let l = 0; l < L; l++) {
      const dyn = await at(t, l);
      stepOnly.push(...dyn);
      cmd.run(...before[l], ...dyn, ...after[l]);
    }
    cmd.run(...head).submit();
    const next = await readTensor(gpu, idsOut);
    for (const d of stepOnly) d.destroy();
    for (let e = 0; e < B; e++) {
      if (done[e]) {
        tokens[e] = pad;
        continue;
      }
      const forced = t === o.maxNewTokens - 1 ? cfg.forcedEosTokenId : null;
      const id = forced ?? next[e];
      out[e].push(id);
      tokens[e] = id;
      if (id === cfg.eosTokenId) done[e] = true;
    }
  }
  for (
    const d of [
      ...once.slice(prog.encoderForward.length),
      ...embed,
      ...before.flat(),
      ...after.flat(),
      ...head,
    ]
  ) {
    d.destroy();
  }
  return out;
}
