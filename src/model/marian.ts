/**
 * Marian / OPUS-MT translation models (`MarianMTModel`) on the GPU: loading a checkpoint, the allocations for
 * the largest batch, and per batch shape (B, T) a program of flat call lists (encoder forward, decoder forward,
 * loss, backward in exact reverse order), greedy generation, and saving in the Hugging Face layout.
 *
 * Sources and targets of a batch are padded to one length T: the cross-attention runs the self-attention
 * kernels on a fused query|key|value tensor (see `decoder_layer.ts`). The encoder layers are the BERT layer code
 * (`layer.ts`) under Marian's names. Embeddings: `shared[ids] * sqrt(C)` (with `scale_embedding`) + the
 * sinusoidal table, computed as `s * (shared[ids] + table / s)` by the embedding kernel and a scale; the shared
 * embedding is also the LM head, `logits = dec_out shared^T + final_logits_bias`.
 *
 * Random streams: encoder layer l uses layer index l (as the BERT encoder, so AD-DROP's masks address encoder
 * layers by index), the encoder embedding 1000, the decoder embedding 1001, decoder layer l 2000 + l.
 *
 * Legend: B batch, T tokens, C hidden, V vocabulary, NH heads, F feed-forward width.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { CommandBatch, type Dispatch } from "../gpu/encoder.ts";
import { readTensor } from "../gpu/readback.ts";
import { createTensor, type Tensor, writeTensor } from "../gpu/tensor.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { InputError } from "../io/input_error.ts";
import { openSafetensors } from "../io/safetensors.ts";
import { writeSafetensors } from "../io/safetensors_writer.ts";
import { dropoutBackward, dropoutForward } from "../kernels/dropout.ts";
import { embeddingBackward, embeddingForward } from "../kernels/embedding.ts";
import { bucketsLength, embeddingBuckets } from "../kernels/embedding_ids.ts";
import { layernormScratchShape } from "../kernels/layernorm.ts";
import { crossEntropyForward } from "../kernels/loss.ts";
import { matmulBackward, matmulForward } from "../kernels/matmul.ts";
import { pseudoLabelIds } from "../kernels/pseudo_label.ts";
import { gatherRowsForward } from "../kernels/gather_rows.ts";
import { scale } from "../kernels/scale.ts";
import {
  allocateDecoderLayer,
  type DecoderActivations,
  type DecoderGradScratch,
  type DecoderInputs,
  decoderLayerBackward,
  decoderLayerForward,
  decoderLayerViews,
} from "./decoder_layer.ts";
import { bucketsWithout, checkBatchFits, keyMaskOf, MASK_MIN, vocabIds } from "./encoder.ts";
import {
  allocateLayer,
  type LayerActivations,
  layerBackward,
  type LayerDims,
  layerForward,
  type LayerInputs,
  layerViews,
} from "./layer.ts";
import {
  loadMarianConfig,
  type MarianConfig,
  marianConfigToJson,
  parseMarianConfig,
} from "./marian_config.ts";
import {
  loadMarianWeights,
  marianDecoderNames,
  marianEncoderNames,
  marianHfTensors,
  marianParamSpecs,
  SHARED,
  sinusoidalPositions,
} from "./marian_weights.ts";
import { readParams } from "./model.ts";
import { ParamStore } from "./param_store.ts";
import { initValues, type ParamSpec } from "./weights.ts";

/** A batch of source/target pairs, both padded to T. */
export interface Seq2SeqBatch {
  B: number;
  T: number;
  /** (B, T) source ids, padded with pad. */
  inputIds: ArrayLike<number>;
  /** (B, T) 1 for source tokens, 0 for padding. */
  attentionMask: ArrayLike<number>;
  /** (B, T) decoder inputs: the labels shifted right behind the start token, pad where there is no label. */
  decoderInputIds: ArrayLike<number>;
  /** (B, T) target ids, -100 where no loss applies. */
  labels?: ArrayLike<number>;
}

/** A Marian checkpoint loaded onto the GPU. */
export interface LoadedMarian {
  cfg: MarianConfig;
  specs: ParamSpec[];
  store: ParamStore;
  finalLogitsBias: Float32Array;
  unexpected: string[];
}

/** Loads a Marian checkpoint directory (config.json + model.safetensors) into a new parameter store. */
export async function loadMarian(gpu: Gpu, dir: string): Promise<LoadedMarian> {
  const cfg = await loadMarianConfig(`${dir}/config.json`);
  const source = await openSafetensors(dir);
  try {
    const w = await loadMarianWeights(cfg, source);
    const store = await ParamStore.create(gpu, w.specs);
    store.upload(gpu, w.params);
    return { cfg, specs: w.specs, store, finalLogitsBias: w.finalLogitsBias, unexpected: w.unexpected };
  } finally {
    source.close();
  }
}

/**
 * A freshly initialised Marian model of the shape given by config.json fields (`vocab_size`, `d_model`, the
 * layer and head counts, ...; a swish activation, scaled embeddings and pad = decoder start = the last word
 * unless given), its weights drawn from a normal of std `o.std` (default 0.02) with seed `o.seed` (default 1):
 * for benchmarks, tests and checks at a given shape without a checkpoint.
 */
export async function randomMarian(
  gpu: Gpu,
  config: Record<string, unknown> & { vocab_size: number },
  o: { std?: number; seed?: number } = {},
): Promise<LoadedMarian> {
  const last = config.vocab_size - 1;
  const cfg = parseMarianConfig({
    model_type: "marian",
    activation_function: "swish",
    scale_embedding: true,
    pad_token_id: last,
    decoder_start_token_id: last,
    ...config,
  });
  const specs = marianParamSpecs(cfg);
  const store = await ParamStore.create(gpu, specs);
  store.upload(gpu, specs.map((s, i) => initValues(s, o.std ?? 0.02, o.seed ?? 1, i)));
  return { cfg, specs, store, finalLogitsBias: new Float32Array(cfg.vocabSize), unexpected: [] };
}

/** Writes config.json and model.safetensors of a Marian model into `dir` (each to a temporary name, renamed). */
export async function saveMarian(gpu: Gpu, dir: string, m: LoadedMarian): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const params = await readParams(gpu, m.store, m.specs);
  await writeSafetensors(
    `${dir}/model.safetensors`,
    marianHfTensors(m.cfg, m.specs, params, m.finalLogitsBias),
  );
  await writeFileAtomic(`${dir}/config.json`, JSON.stringify(marianConfigToJson(m.cfg), null, 2) + "\n");
}

/** Run sizes and dropout (defaults: the config's). */
export interface MarianOptions {
  maxBatch: number;
  maxLength: number;
  dropout?: number;
  attentionDropout?: number;
}

const TENSOR_KEYS = {
  f32: ["srcKeyMask", "zeroKeyMask", "causal"],
  u32: [
    "srcIds",
    "tgtIds",
    "posIds",
    "typeIds",
    "srcBuckets",
    "tgtBuckets",
    "posBuckets",
    "typeBuckets",
    "rng",
    "lengths",
  ],
} as const;

type Inputs = Record<typeof TENSOR_KEYS.f32[number] | typeof TENSOR_KEYS.u32[number], Tensor> & {
  targets: Tensor;
  genIds: Tensor;
  /** Zeros (B*T, i32): no row of the generation argmax is ignored. */
  genRows: Tensor;
  /** (B) u32: the row (b * T + step) of each example's current position, rewritten every generation step. */
  genRowIds: Tensor;
};

/** Layer index of the random streams of each part (see the module doc). */
export const MARIAN_STREAMS = { encoderEmbedding: 1000, decoderEmbedding: 1001, decoderLayer: 2000 } as const;

/** The model's allocations; programs per batch shape come from {@linkcode MarianModel.program}. */
export class MarianModel {
  readonly encDims: LayerDims;
  readonly decDims: { C: number; NH: number; F: number };
  #programs = new Map<string, Promise<MarianProgram>>();
  #shape = "";

  private constructor(
    readonly gpu: Gpu,
    readonly loaded: LoadedMarian,
    readonly options: Required<MarianOptions>,
    readonly inputs: Inputs,
    /** Position table / s (P, C), a zero type row (1, C), the logits bias (V) and the generation bias (V). */
    readonly buffers: { pos: Tensor; type: Tensor; bias: Tensor; genBias: Tensor },
    readonly acts: {
      encSum: Tensor;
      encX: Tensor;
      decSum: Tensor;
      decX: Tensor;
      enc: LayerActivations[];
      dec: DecoderActivations[];
      logits: Tensor;
      /** Generation: each example's current position (B, C) and its logits (B, V). */
      genHidden: Tensor;
      genLogits: Tensor;
      losses: Tensor;
      loss: Tensor;
      dlogits: Tensor;
    },
    readonly grads: Record<string, Tensor>,
  ) {
    const c = loaded.cfg;
    this.encDims = {
      C: c.hiddenSize,
      NH: c.encoderHeads,
      I: c.encoderFfn,
      eps: c.layerNormEps,
      act: c.activation,
      pHidden: options.dropout,
      pAttn: options.attentionDropout,
    };
    this.decDims = { C: c.hiddenSize, NH: c.decoderHeads, F: c.decoderFfn };
  }

  get cfg(): MarianConfig {
    return this.loaded.cfg;
  }

  get store(): ParamStore {
    return this.loaded.store;
  }

  /** Allocates everything for batches up to `maxBatch` x `maxLength`. */
  static async create(gpu: Gpu, loaded: LoadedMarian, options: MarianOptions): Promise<MarianModel> {
    const cfg = loaded.cfg;
    const o: Required<MarianOptions> = {
      maxBatch: options.maxBatch,
      maxLength: options.maxLength,
      dropout: options.dropout ?? cfg.dropout,
      attentionDropout: options.attentionDropout ?? cfg.attentionDropout,
    };
    if (o.maxLength > cfg.maxPositionEmbeddings) {
      throw new RangeError(
        `max length ${o.maxLength} exceeds the model's ${cfg.maxPositionEmbeddings} positions ` +
          `(max_position_embeddings)`,
      );
    }
    const { hiddenSize: C, vocabSize: V } = cfg;
    const BT = o.maxBatch * o.maxLength;
    // The LM head's logits and their gradient are one buffer each (bound in row blocks where they exceed the
    // binding limit), so they must fit the adapter's largest buffer.
    const maxBuffer = gpu.device.limits.maxBufferSize;
    if (BT * V * 4 > maxBuffer) {
      const most = Math.floor(maxBuffer / (4 * V));
      throw new InputError(
        `batch ${o.maxBatch} x length ${o.maxLength} x vocabulary ${V} logits take ${
          BT * V * 4
        } bytes, above ` +
          `the adapter's largest buffer of ${maxBuffer} bytes: keep batch x length <= ${most} (lower --batch-size ` +
          "and use --gradient-accumulation-steps, or lower --max-length)",
      );
    }
    // The LM head binds the shared embedding whole (the embedding lookups split it, the products do not).
    if (V * C * 4 > gpu.maxBindingBytes) {
      throw new InputError(
        `the shared embedding (vocabulary ${V} x d_model ${C}) takes ${
          V * C * 4
        } bytes, above the adapter's ` +
          `storage binding limit of ${gpu.maxBindingBytes} bytes: the LM head binds it whole, so this model ` +
          "needs an adapter with a larger maxStorageBufferBindingSize",
      );
    }
    const NH = Math.max(cfg.encoderHeads, cfg.decoderHeads);
    const F = Math.max(cfg.encoderFfn, cfg.decoderFfn);
    const f = (label: string, n: number, data?: Float32Array) =>
      createTensor(gpu, [Math.max(1, n)], "f32", { label, data });
    const inputs = {} as Inputs;
    for (const k of TENSOR_KEYS.f32) {
      const n = k === "causal" ? o.maxBatch * cfg.decoderHeads * o.maxLength * o.maxLength : BT;
      inputs[k] = await f(k, n);
    }
    for (const k of TENSOR_KEYS.u32) {
      const n = k === "rng"
        ? 2
        : k === "lengths"
        ? o.maxBatch
        : k.endsWith("Buckets")
        ? bucketsLength(BT)
        : BT;
      inputs[k] = await createTensor(gpu, [n], "u32", { label: k });
    }
    inputs.targets = await createTensor(gpu, [BT], "i32", { label: "targets" });
    inputs.genIds = await createTensor(gpu, [BT], "i32", { label: "generated ids" });
    inputs.genRows = await createTensor(gpu, [BT], "i32", { label: "generation rows" });
    inputs.genRowIds = await createTensor(gpu, [o.maxBatch], "u32", { label: "generation row ids" });
    const s = embedScale(cfg);
    const table = sinusoidalPositions(cfg.maxPositionEmbeddings, C).map((x) => x / s);
    const genBias = Float32Array.from(loaded.finalLogitsBias);
    for (const id of cfg.badWordIds) genBias[id] = MASK_MIN;
    const buffers = {
      pos: await f("positions / scale", table.length, table),
      type: await f("zero type row", C),
      bias: await f("final logits bias", V, loaded.finalLogitsBias),
      genBias: await f("generation logits bias", V, genBias),
    };
    const enc: LayerActivations[] = [];
    for (let l = 0; l < cfg.encoderLayers; l++) {
      enc.push(
        await allocateLayer(
          gpu,
          l,
          { C, NH: cfg.encoderHeads, I: cfg.encoderFfn } as LayerDims,
          o.maxBatch,
          o.maxLength,
        ),
      );
    }
    const dec: DecoderActivations[] = [];
    for (let l = 0; l < cfg.decoderLayers; l++) {
      dec.push(
        await allocateDecoderLayer(
          gpu,
          l,
          { C, NH: cfg.decoderHeads, F: cfg.decoderFfn },
          o.maxBatch,
          o.maxLength,
        ),
      );
    }
    const acts = {
      encSum: await f("encoder embedding", BT * C),
      encX: await f("encoder input", BT * C),
      decSum: await f("decoder embedding", BT * C),
      decX: await f("decoder input", BT * C),
      enc,
      dec,
      logits: await f("logits", BT * V),
      genHidden: await f("generation hidden", o.maxBatch * C),
      genLogits: await f("generation logits", o.maxBatch * V),
      losses: await f("losses", BT),
      loss: await f("loss", 1),
      dlogits: await f("dlogits", BT * V),
    };
    const probs = o.maxBatch * NH * o.maxLength * o.maxLength;
    const grads: Record<string, Tensor> = {
      dxA: await f("dx a", BT * C),
      dxB: await f("dx b", BT * C),
      dEnc: await f("d encoder output", BT * C),
      dC1: await f("dC1", BT * C),
      dC2: await f("dC2", BT * C),
      dC3: await f("dC3", BT * C),
      dI1: await f("dI1", BT * F),
      dI2: await f("dI2", BT * F),
      dqkv: await f("dqkv", BT * 3 * C),
      dkv: await f("dkv", BT * 2 * C),
      attnScratch: await f("attention backward scratch", 2 * probs),
      lnScratch: await f("layernorm scratch", 2 * BT * C),
      lnSinkW: await f("unused LN dweight", C),
      lnSinkB: await f("unused LN dbias", C),
      posSink: await f("unused position gradient", cfg.maxPositionEmbeddings * C),
      typeSink: await f("unused type gradient", C),
      dEmb: await f("d embedding", BT * C),
    };
    return new MarianModel(gpu, loaded, o, inputs, buffers, acts, grads);
  }

  /** Writes a batch's inputs to the GPU (ids, masks, gradient buckets, targets; the causal mask per shape). */
  writeBatch(batch: Seq2SeqBatch): void {
    const { B, T } = batch;
    const cfg = this.cfg;
    checkBatchFits(B, T, this.options);
    const N = B * T;
    const src = vocabIds(batch.inputIds, cfg.vocabSize, "input");
    const tgt = vocabIds(batch.decoderInputIds, cfg.vocabSize, "decoder input");
    const gpu = this.gpu;
    const inp = this.inputs;
    const { keyMask, lengths } = keyMaskOf(batch.attentionMask, B, T);
    writeTensor(gpu, inp.lengths, lengths);
    writeTensor(gpu, inp.srcIds, src);
    writeTensor(gpu, inp.tgtIds, tgt);
    writeTensor(gpu, inp.srcKeyMask, keyMask);
    // nn.Embedding(padding_idx=pad): pad positions add nothing to the shared embedding's gradient.
    const noPad = (ids: Uint32Array) => Array.from(ids, (x) => (x === cfg.padTokenId ? -1 : x));
    writeTensor(gpu, inp.srcBuckets, bucketsWithout(noPad(src), cfg.vocabSize));
    writeTensor(gpu, inp.tgtBuckets, bucketsWithout(noPad(tgt), cfg.vocabSize));
    if (batch.labels) writeTensor(gpu, inp.targets, Int32Array.from(batch.labels));
    const shape = `${B}x${T}`;
    if (shape !== this.#shape) {
      this.#shape = shape;
      const pos = Uint32Array.from({ length: N }, (_, i) => i % T);
      writeTensor(gpu, inp.posIds, pos);
      writeTensor(gpu, inp.typeIds, new Uint32Array(N));
      writeTensor(gpu, inp.zeroKeyMask, new Float32Array(N));
      writeTensor(gpu, inp.posBuckets, embeddingBuckets(pos, cfg.maxPositionEmbeddings));
      writeTensor(gpu, inp.typeBuckets, embeddingBuckets(new Uint32Array(N), 1));
      const NH = cfg.decoderHeads;
      const causal = new Float32Array(B * NH * T * T);
      for (let r = 0; r < B * NH; r++) {
        for (let i = 0; i < T; i++) causal.fill(MASK_MIN, (r * T + i) * T + i + 1, (r * T + i + 1) * T);
      }
      writeTensor(gpu, inp.causal, causal);
    }
  }

  /** Sets the random step (every dropout of the step derives from [seed, step]). */
  setStep(seed: number, step: number): void {
    writeTensor(this.gpu, this.inputs.rng, new Uint32Array([seed >>> 0, step >>> 0]));
  }

  /**
   * The program of a batch shape and mode, built on first use; `o` (AD-DROP's masked program, or its clean one
   * with the attribution backward) is cached under `key`.
   */
  program(
    B: number,
    T: number,
    mode: "train" | "eval",
    o: MarianProgramOptions = {},
    key = "",
  ): Promise<MarianProgram> {
    const id = `${mode}:${B}x${T}:${key}`;
    let p = this.#programs.get(id);
    if (!p) {
      p = buildMarianProgram(this, B, T, mode, o);
      this.#programs.set(id, p);
    }
    return p;
  }

  /** Frees every allocation except the parameter store. */
  destroy(): void {
    const all = [
      ...Object.values(this.inputs),
      ...Object.values(this.buffers),
      ...Object.values(this.grads),
      this.acts.encSum,
      this.acts.encX,
      this.acts.decSum,
      this.acts.decX,
      this.acts.logits,
      this.acts.genHidden,
      this.acts.genLogits,
      this.acts.losses,
      this.acts.loss,
      this.acts.dlogits,
      ...this.acts.enc.flatMap((l) => Object.values(l)),
      ...this.acts.dec.flatMap((l) => Object.values(l)),
    ];
    for (const t of all) t.destroy();
  }
}

function embedScale(cfg: MarianConfig): number {
  return cfg.scaleEmbedding ? Math.sqrt(cfg.hiddenSize) : 1;
}

/** What a program adds to the plain one (AD-DROP). */
export interface MarianProgramOptions {
  /** Additive masks (B, NH, T, T) of encoder self-attention layers, by layer index. */
  addMasks?: ReadonlyMap<number, Tensor>;
  /**
   * Builds `attributionBackward`: from `dlogits` (B*T, V) down to the lowest encoder layer of `dprobs`, writing
   * dF/dA of those layers there; activation gradients only (no parameter gradient is touched).
   */
  attribution?: { dlogits: Tensor; dprobs: ReadonlyMap<number, Tensor> };
  /** Integrated gradients: encoder layer `layer`'s probabilities scaled per example by `tensor` (B). */
  alpha?: { layer: number; tensor: Tensor };
  /**
   * `encoderForward` starts at this encoder layer, with its Q, K, V projection left out: the embeddings, the
   * layers below and that projection are the previous forward's of the same batch (an integrated-gradients
   * step, whose scaling leaves them unchanged). Default 0: the whole encoder.
   */
  encoderFrom?: number;
}

/** The prepared call lists of one batch shape. */
export interface MarianProgram {
  B: number;
  T: number;
  encoderForward: Dispatch[];
  decoderForward: Dispatch[];
  /** The decoder forward without the LM head (generation runs `generate` after it). */
  decoderBody: Dispatch[];
  /** Cross-entropy over the (B*T) target positions against the labels (-100 ignored). */
  loss: Dispatch[];
  backward: Dispatch[];
  /** AD-DROP's activation-only backward (with `o.attribution`), else empty. */
  attributionBackward: Dispatch[];
  /**
   * Generation, after `decoderBody`: the rows `genRowIds` of the decoder output (each example's current
   * position), their logits with the bad words' bias, and their argmax into `genIds` (B, i32). The LM head runs
   * on B rows, not B*T.
   */
  generate: Dispatch[];
  /** `generate` without the argmax: (B, V) logits of the rows `genRowIds` in `genLogits` (beam search). */
  generateLogits: Dispatch[];
  genLogits: Tensor;
  /** (B*T, V) logits. */
  logits: Tensor;
  lossValue: Tensor;
  dlogits: Tensor;
  /** (B) argmax ids written by `generate`. */
  genIds: Tensor;
  /** Encoder layers' activations (probs included) for this shape. */
  encLayers: LayerActivations[];
  /** The encoder's output (B, T, C). */
  encOut: Tensor;
}

async function buildMarianProgram(
  m: MarianModel,
  B: number,
  T: number,
  mode: "train" | "eval",
  o: MarianProgramOptions,
): Promise<MarianProgram> {
  const { gpu, store, cfg } = m;
  const train = mode === "train";
  const C = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const N = B * T;
  const s = embedScale(cfg);
  const pHidden = train ? m.options.dropout : 0;
  const pAttn = train ? m.options.attentionDropout : 0;
  const inp = m.inputs;
  const v = (t: Tensor, shape: number[]) => t.view(shape);
  const n1 = (t: Tensor) => t.view([N]);
  const ids = { src: n1(inp.srcIds), tgt: n1(inp.tgtIds), pos: n1(inp.posIds), type: n1(inp.typeIds) };
  const srcKeyMask = v(inp.srcKeyMask, [B, T]);
  const rng = inp.rng;
  const a = m.acts;
  const encX = v(a.encX, [B, T, C]);
  const decX = v(a.decX, [B, T, C]);
  const encLayers = a.enc.map((x) => layerViews(x, m.encDims, B, T));
  const decLayers = a.dec.map((x) => decoderLayerViews(x, m.decDims, B, T));
  const encOut = cfg.encoderLayers ? encLayers[cfg.encoderLayers - 1].out : encX;
  const decOut = cfg.decoderLayers ? decLayers[cfg.decoderLayers - 1].out : decX;
  const shared = store.param(SHARED);

  const embed = async (sum: Tensor, x: Tensor, tok: Tensor, layer: number): Promise<Dispatch[]> => {
    const list = await embeddingForward(gpu, {
      out: sum,
      ids: tok,
      posIds: ids.pos,
      typeIds: ids.type,
      wte: shared,
      wpe: m.buffers.pos,
      wtt: m.buffers.type,
    }, { N, C });
    if (s !== 1) list.push(await scale(gpu, { x: sum }, { s }));
    list.push(await dropoutForward(gpu, { out: x, inp: sum, rng }, { p: pHidden, layer, slot: 0 }));
    return list;
  };

  const encDims = { ...m.encDims, pHidden, pAttn, B, T };
  const encInputs = (l: number): LayerInputs => ({
    keyMask: srcKeyMask,
    rng,
    addMask: o.addMasks?.get(l) ?? null,
    alpha: o.alpha?.layer === l ? o.alpha.tensor : null,
  });
  const from = o.encoderFrom ?? 0;
  if (!(Number.isInteger(from) && from >= 0 && from <= Math.max(cfg.encoderLayers - 1, 0))) {
    throw new RangeError(`Marian program: encoderFrom = ${from}, expected 0..${cfg.encoderLayers - 1}`);
  }
  const encoderForward = from > 0
    ? []
    : await embed(v(a.encSum, [N, C]), encX, ids.src, MARIAN_STREAMS.encoderEmbedding);
  for (let l = from; l < cfg.encoderLayers; l++) {
    const x = l === 0 ? encX : encLayers[l - 1].out;
    encoderForward.push(
      ...await layerForward(gpu, store, marianEncoderNames(l), x, encLayers[l], encInputs(l), {
        ...encDims,
        layer: l,
        skipQkv: o.encoderFrom !== undefined && l === from,
      }),
    );
  }

  const decInputs: DecoderInputs = {
    enc: encOut,
    selfKeyMask: v(inp.zeroKeyMask, [B, T]),
    causal: v(inp.causal, [B, cfg.decoderHeads, T, T]),
    srcKeyMask,
    rng,
  };
  const decDims = (l: number) => ({
    ...m.decDims,
    B,
    T,
    eps: cfg.layerNormEps,
    act: cfg.activation,
    pHidden,
    pAttn,
    layer: MARIAN_STREAMS.decoderLayer + l,
  });
  const decoderForward = await embed(v(a.decSum, [N, C]), decX, ids.tgt, MARIAN_STREAMS.decoderEmbedding);
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const x = l === 0 ? decX : decLayers[l - 1].out;
    decoderForward.push(
      ...await decoderLayerForward(gpu, store, marianDecoderNames(l), x, decLayers[l], decInputs, decDims(l)),
    );
  }
  const logits = v(a.logits, [N, V]);
  const decoderBody = [...decoderForward];
  decoderForward.push(
    ...await matmulForward(gpu, { out: logits, inp: decOut, weight: shared, bias: m.buffers.bias }, {
      M: N,
      K: C,
      N: V,
    }),
  );

  const dlogits = v(a.dlogits, [N, V]);
  const targets = n1(inp.targets);
  const loss = await crossEntropyForward(gpu, {
    loss: a.loss,
    losses: n1(a.losses),
    dlogits,
    logits,
    targets,
  }, { N, V });
  const genIds = inp.genIds.view([B]);
  const genHidden = v(a.genHidden, [B, C]);
  const genLogits = v(a.genLogits, [B, V]);
  const generateLogits = [
    await gatherRowsForward(gpu, { out: genHidden, inp: decOut, rows: inp.genRowIds.view([B]) }, {
      P: B,
      N,
      C,
    }),
    ...await matmulForward(gpu, { out: genLogits, inp: genHidden, weight: shared, bias: m.buffers.genBias }, {
      M: B,
      K: C,
      N: V,
    }),
  ];
  const generate = [
    ...generateLogits,
    await pseudoLabelIds(gpu, { labels: genIds, logits: genLogits, targets: inp.genRows.view([B]) }, {
      rows: B,
      L: V,
    }),
  ];

  // Backward: LM head, decoder layers top-down (the encoder output's gradient gathers in dEnc), decoder
  // embedding, encoder layers top-down, encoder embedding.
  const g = m.grads;
  const dC = (t: Tensor) => v(t, [N, C]);
  const dx = [dC(g.dxA), dC(g.dxB)];
  const dEnc = dC(g.dEnc);
  const lnScratch = g.lnScratch.view(layernormScratchShape({ rows: N, C }));
  const attnScratch = (NH: number) => g.attnScratch.view([2, B, NH, T, T]);
  const lnSink = { dweight: g.lnSinkW.view([C]), dbias: g.lnSinkB.view([C]) };
  const decScratch: DecoderGradScratch = {
    dC1: dC(g.dC1),
    dC2: dC(g.dC2),
    dC3: dC(g.dC3),
    dI1: v(g.dI1, [N, cfg.decoderFfn]),
    dI2: v(g.dI2, [N, cfg.decoderFfn]),
    dqkv: v(g.dqkv, [N, 3 * C]),
    dkv: v(g.dkv, [N, 2 * C]),
    lnScratch,
    attnScratch: attnScratch(cfg.decoderHeads),
  };
  const encScratch = {
    dC1: dC(g.dC1),
    dC2: dC(g.dC2),
    dI1: v(g.dI1, [N, cfg.encoderFfn]),
    dI2: v(g.dI2, [N, cfg.encoderFfn]),
    dqkv: v(g.dqkv, [N, 3 * C]),
    lnScratch,
    attnScratch: attnScratch(cfg.encoderHeads),
  };
  const embedBackward = async (dX: Tensor, layer: number, buckets: Tensor): Promise<Dispatch[]> => {
    const dEmb = dC(g.dEmb);
    const list: Dispatch[] = [
      await dropoutBackward(gpu, { dinp: dEmb, dout: dX, rng }, { p: pHidden, layer, slot: 0 }),
    ];
    if (s !== 1) list.push(await scale(gpu, { x: dEmb }, { s }));
    list.push(
      ...await embeddingBackward(gpu, {
        dwte: store.grad(SHARED),
        dwpe: g.posSink,
        dwtt: g.typeSink,
        dout: dEmb,
        wteBuckets: buckets,
        wpeBuckets: n1Buckets(inp.posBuckets, N),
        wttBuckets: n1Buckets(inp.typeBuckets, N),
      }, { N, C }),
    );
    return list;
  };
  /**
   * The backward from `dl`: with `paramGrads` every parameter gradient accumulates and the embeddings are
   * reached; without, only activation gradients down to encoder layer `lowest`, dF/dA into `dprobs`.
   */
  const buildBackward = async (
    dl: Tensor,
    paramGrads: boolean,
    dprobs: ReadonlyMap<number, Tensor>,
    lowest: number,
  ): Promise<Dispatch[]> => {
    const list: Dispatch[] = [
      ...await matmulBackward(gpu, {
        dinp: dx[0],
        dweight: paramGrads ? store.grad(SHARED) : null,
        dbias: null,
        dout: dl,
        inp: decOut,
        weight: shared,
      }, { M: N, K: C, N: V }),
    ];
    let cur = 0;
    for (let l = cfg.decoderLayers - 1; l >= 0; l--) {
      const x = l === 0 ? decX : decLayers[l - 1].out;
      list.push(
        ...await decoderLayerBackward(gpu, store, marianDecoderNames(l), x, decLayers[l], decInputs, {
          dout: dx[cur],
          dx: dx[1 - cur],
          dEnc,
          firstEnc: l === cfg.decoderLayers - 1,
          s: decScratch,
          paramGrads,
          lnSink,
          needDx: paramGrads || l > 0,
        }, decDims(l)),
      );
      cur = 1 - cur;
    }
    if (paramGrads) {
      list.push(
        ...await embedBackward(dx[cur], MARIAN_STREAMS.decoderEmbedding, n1Buckets(inp.tgtBuckets, N)),
      );
    }
    // The encoder's top layer starts from dEnc; the ping-pong continues in dx.
    let dout = dEnc;
    for (let l = cfg.encoderLayers - 1; l >= lowest; l--) {
      const x = l === 0 ? encX : encLayers[l - 1].out;
      const next = dx[l % 2];
      list.push(
        ...await layerBackward(
          gpu,
          store,
          marianEncoderNames(l),
          x,
          encLayers[l],
          encInputs(l),
          {
            dout,
            dx: next,
            s: encScratch,
            lnSink,
          },
          { ...encDims, layer: l },
          {
            paramGrads,
            dprobs: dprobs.get(l) ?? null,
            needDx: paramGrads || l > lowest,
          },
        ),
      );
      dout = next;
    }
    if (paramGrads) {
      list.push(...await embedBackward(dout, MARIAN_STREAMS.encoderEmbedding, n1Buckets(inp.srcBuckets, N)));
    }
    return list;
  };
  const backward = await buildBackward(dlogits, true, new Map(), 0);
  const attr = o.attribution;
  const attributionBackward = attr
    ? await buildBackward(attr.dlogits, false, attr.dprobs, Math.min(...attr.dprobs.keys()))
    : [];
  return {
    B,
    T,
    encoderForward,
    decoderForward,
    decoderBody,
    loss,
    backward,
    attributionBackward,
    generate,
    generateLogits,
    genLogits,
    logits,
    lossValue: a.loss,
    dlogits,
    genIds,
    encLayers,
    encOut,
  };
}

function n1Buckets(t: Tensor, N: number): Tensor {
  return t.view([bucketsLength(N)]);
}

/**
 * Greedy decoding (HF `generate` with `num_beams=1`, no sampling): the decoder starts from
 * `decoder_start_token_id`; each step takes the argmax of the last position's logits with the bad words
 * (`bad_words_ids`, pad by default) excluded; an example stops at eos, and with `forced_eos_token_id` the last
 * allowed step emits that token (HF's ForcedEOSTokenLogitsProcessor at max_length). Returns
 * the generated ids per example, without the start token, with the eos if it came.
 *
 * Each step runs the whole decoder over the T positions of the batch (no key/value cache): the causal mask
 * keeps positions after the current one from mattering.
 */
export async function greedyGenerate(
  m: MarianModel,
  sources: number[][],
  o: { maxNewTokens: number },
): Promise<number[][]> {
  const cfg = m.cfg;
  const B = sources.length;
  const srcLen = checkGeneration(m, sources, o.maxNewTokens);
  const out: number[][] = Array.from({ length: B }, () => []);
  const done = new Array(B).fill(false);
  const run = recomputingSteps(m, sources, 1, srcLen, "generate");
  for (let step = 0; step < o.maxNewTokens && done.includes(false); step++) {
    const seqs = out.map((ids) => [cfg.decoderStartTokenId, ...ids]);
    const prog = await run(seqs, step + 1, (p) => p.generate);
    acceptGreedy(cfg, step, o.maxNewTokens, await readTensor(m.gpu, prog.genIds), out, done);
  }
  return out;
}

/**
 * The steps of the recomputing generators ({@linkcode greedyGenerate}, `beamSearch`): each call writes the
 * decoder rows `seqs` (one per batch row, `sources` each repeated `copies` times; each starting with the start
 * token, `curLen` tokens long) padded to the batch length, which grows with the output (the encoder runs again
 * at each new length), then submits the decoder over every position and `tail` of the program, and returns the
 * program.
 */
export function recomputingSteps(
  m: MarianModel,
  sources: number[][],
  copies: number,
  srcLen: number,
  label: string,
): (seqs: readonly (readonly number[])[], curLen: number, tail: (p: MarianProgram) => Dispatch[]) => Promise<
  MarianProgram
> {
  const pad = m.cfg.padTokenId;
  const R = sources.length * copies;
  let T = 0;
  let prog: MarianProgram | null = null;
  let src = sourceRows(sources, copies, 0, pad);
  m.setStep(0, 0);
  return async (seqs, curLen, tail) => {
    const need = generationLength(m, srcLen, curLen);
    const fresh = need !== T;
    if (fresh) {
      T = need;
      src = sourceRows(sources, copies, T, pad);
      prog = await m.program(R, T, "eval");
    }
    const p = prog!;
    const dec = new Array(R * T).fill(pad);
    seqs.forEach((seq, r) => seq.forEach((id, t) => (dec[r * T + t] = id)));
    m.writeBatch({ B: R, T, inputIds: src.inputIds, attentionMask: src.mask, decoderInputIds: dec });
    writeTensor(m.gpu, m.inputs.genRowIds, Uint32Array.from({ length: R }, (_, r) => r * T + curLen - 1));
    const cmd = new CommandBatch(m.gpu, label);
    if (fresh) cmd.run(...p.encoderForward);
    cmd.run(...p.decoderBody, ...tail(p)).submit();
    return p;
  };
}

/**
 * Greedy search's rule for step `t` of `maxNewTokens`: each running example takes its argmax `next[b]` (the
 * forced eos instead at the last step, with `forced_eos_token_id`) and ends at eos. Returns the ids taken, the
 * pad id for examples that had ended (the next step's decoder inputs).
 */
export function acceptGreedy(
  cfg: MarianConfig,
  t: number,
  maxNewTokens: number,
  next: ArrayLike<number>,
  out: number[][],
  done: boolean[],
): number[] {
  return out.map((ids, b) => {
    if (done[b]) return cfg.padTokenId;
    const id = (t === maxNewTokens - 1 ? cfg.forcedEosTokenId : null) ?? next[b];
    ids.push(id);
    if (id === cfg.eosTokenId) done[b] = true;
    return id;
  });
}

/** Checks that generation fits the model's allocation; returns the longest source. */
export function checkGeneration(
  m: MarianModel,
  sources: number[][],
  maxNewTokens: number,
  rows = sources.length,
) {
  const srcLen = Math.max(1, ...sources.map((s) => s.length));
  const T = Math.max(srcLen, maxNewTokens);
  if (rows > m.options.maxBatch || T > m.options.maxLength) {
    throw new RangeError(
      `generation for ${sources.length} sources in ${rows} rows needs ${rows} x ${T} (source ${srcLen}, ` +
        `${maxNewTokens} new tokens), the allocation is ${m.options.maxBatch} x ${m.options.maxLength}`,
    );
  }
  return srcLen;
}

/**
 * The padded length of a generation step: the longest source, or the decoder positions used so far if more,
 * rounded up to a multiple of 16 (so that a batch changes shape, and builds a program, every 16 steps at most)
 * and capped by the allocation. The causal mask and the masked source padding make the outputs independent of
 * it.
 */
export function generationLength(m: MarianModel, srcLen: number, positions: number): number {
  return Math.min(m.options.maxLength, Math.ceil(Math.max(srcLen, positions) / 16) * 16);
}

/** Source ids and attention mask of `sources`, each repeated in `copies` consecutive rows, padded to T. */
export function sourceRows(
  sources: number[][],
  copies: number,
  T: number,
  pad: number,
): { inputIds: number[]; mask: number[] } {
  const R = sources.length * copies;
  const inputIds = new Array(R * T).fill(pad);
  const mask = new Array(R * T).fill(0);
  sources.forEach((s, b) => {
    for (let k = 0; k < copies; k++) {
      s.forEach((id, t) => {
        inputIds[(b * copies + k) * T + t] = id;
        mask[(b * copies + k) * T + t] = 1;
      });
    }
  });
  return { inputIds, mask };
}
