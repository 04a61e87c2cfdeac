/**
 * The encoder with its task head on the GPU: inputs, activations and gradients allocated once for the largest
 * batch, and per batch shape (B, T) a program of flat call lists: forward, loss, backward (exact reverse order).
 * Attention probabilities of every layer and, on request, their gradients (AD-DROP) stay reachable.
 *
 * Legend: B batch, T tokens, E embedding width (ELECTRA; C elsewhere), C hidden, NH heads, I intermediate,
 * L labels, V vocabulary.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor, writeTensor } from "../gpu/tensor.ts";
import type { Activation as KernelActivation } from "../kernels/activation.ts";
import { bucketsLength, embeddingBuckets, positionIds } from "../kernels/embedding_ids.ts";
import type { ModelConfig } from "./config.ts";
import { allocateHead, type HeadActivations, type HeadDims, headStyle, headViews } from "./head.ts";
import { allocateLayer, type LayerActivations, type LayerDims, layerParamNames } from "./layer.ts";
import { allocateMlm, type MlmActivations, writeMlmLabels } from "./mlm_head.ts";
import type { ParamStore } from "./param_store.ts";

/** HF's additive mask value for padding keys: `torch.finfo(torch.float32).min`. */
export const MASK_MIN = -3.4028234663852886e38;

/** Sizes and dropout of one run. */
export interface EncoderOptions {
  maxBatch: number;
  maxLength: number;
  hiddenDropout?: number;
  attentionDropout?: number;
  /** Dropout before the classifier; default the config's `classifier_dropout`, else the hidden dropout. */
  classifierDropout?: number;
}

/** One batch as the tokenizer gives it: (B, T) arrays. */
export interface EncodedBatch {
  B: number;
  T: number;
  inputIds: ArrayLike<number>;
  attentionMask: ArrayLike<number>;
  tokenTypeIds: ArrayLike<number>;
  /**
   * (B) class ids, (B) floats for regression, or (B, T) token labels with -100 ignored (token classification,
   * and the original ids of the masked positions for the masked-language-model head).
   */
  labels?: ArrayLike<number>;
}

/** Per-batch inputs on the GPU (sized for the largest batch). */
export interface EncoderInputs {
  ids: Tensor;
  posIds: Tensor;
  typeIds: Tensor;
  keyMask: Tensor;
  wteBuckets: Tensor;
  wpeBuckets: Tensor;
  wttBuckets: Tensor;
  targets: Tensor;
  targetsF: Tensor;
  rng: Tensor;
  lengths: Tensor;
}

/** Embedding activations (sized for the largest batch). */
export interface EmbeddingActivations {
  sum: Tensor;
  ln: Tensor;
  mean: Tensor;
  rstd: Tensor;
  drop: Tensor;
  proj: Tensor | null;
}

/** Backward scratch shared by all layers (sized for the largest batch). */
export interface GradBuffers {
  dxA: Tensor;
  dxB: Tensor;
  dC1: Tensor;
  dC2: Tensor;
  dI1: Tensor;
  dI2: Tensor;
  dqkv: Tensor;
  attnScratch: Tensor;
  lnScratch: Tensor;
  dEmb: Tensor;
  dEmbLn: Tensor;
  lnSinkW: Tensor;
  lnSinkB: Tensor;
  losses: Tensor;
  loss: Tensor;
  dlogits: Tensor;
}

const KERNEL_ACT: Record<ModelConfig["activation"], KernelActivation> = {
  gelu: "gelu",
  gelu_tanh: "gelu_new",
  relu: "relu",
};

/** The encoder's allocations; programs per batch shape come from `src/model/program.ts`. */
export class Encoder {
  readonly prefix: string;
  readonly layerDims: LayerDims;
  readonly names: ReturnType<typeof layerParamNames>[];
  readonly rows: (B: number, T: number) => number;

  private constructor(
    readonly gpu: Gpu,
    readonly cfg: ModelConfig,
    readonly store: ParamStore,
    readonly options: Required<EncoderOptions>,
    readonly inputs: EncoderInputs,
    readonly emb: EmbeddingActivations,
    readonly layers: LayerActivations[],
    readonly head: HeadActivations,
    readonly grads: GradBuffers,
    /** The masked-language-model head's inputs and activations (head `masked_lm` only). */
    readonly mlm: MlmActivations | null = null,
  ) {
    this.prefix = cfg.modelType;
    this.layerDims = {
      C: cfg.hiddenSize,
      NH: cfg.numHeads,
      I: cfg.intermediateSize,
      eps: cfg.layerNormEps,
      act: KERNEL_ACT[cfg.activation],
      pHidden: options.hiddenDropout,
      pAttn: options.attentionDropout,
    };
    this.names = Array.from({ length: cfg.numLayers }, (_, l) => layerParamNames(this.prefix, l));
    const token = cfg.head === "token_classification";
    this.rows = (B, T) => (token ? B * T : B);
  }

  /** Allocates everything for batches up to `maxBatch` x `maxLength`. */
  static async create(
    gpu: Gpu,
    cfg: ModelConfig,
    store: ParamStore,
    options: EncoderOptions,
  ): Promise<Encoder> {
    const o: Required<EncoderOptions> = {
      maxBatch: options.maxBatch,
      maxLength: options.maxLength,
      hiddenDropout: options.hiddenDropout ?? cfg.hiddenDropout,
      attentionDropout: options.attentionDropout ?? cfg.attentionDropout,
      classifierDropout: options.classifierDropout ?? cfg.classifierDropout ?? options.hiddenDropout ??
        cfg.hiddenDropout,
    };
    if (o.maxLength > cfg.maxSequenceLength) {
      throw new RangeError(
        `max length ${o.maxLength} exceeds the model's ${cfg.maxSequenceLength} positions ` +
          `(max_position_embeddings ${cfg.maxPositionEmbeddings})`,
      );
    }
    const { hiddenSize: C, embeddingSize: E, numHeads: NH, intermediateSize: I, numLabels: L } = cfg;
    const BT = o.maxBatch * o.maxLength;
    const f = (label: string, n: number) => createTensor(gpu, [Math.max(1, n)], "f32", { label });
    const u = (label: string, n: number) => createTensor(gpu, [n], "u32", { label });
    const inputs: EncoderInputs = {
      ids: await u("input ids", BT),
      posIds: await u("position ids", BT),
      typeIds: await u("token type ids", BT),
      keyMask: await f("key mask", BT),
      wteBuckets: await u("word buckets", bucketsLength(BT)),
      wpeBuckets: await u("position buckets", bucketsLength(BT)),
      wttBuckets: await u("type buckets", bucketsLength(BT)),
      targets: await createTensor(gpu, [BT], "i32", { label: "targets" }),
      targetsF: await f("regression targets", o.maxBatch),
      rng: await u("rng", 2),
      lengths: await u("lengths", o.maxBatch),
    };
    const emb: EmbeddingActivations = {
      sum: await f("emb sum", BT * E),
      ln: await f("emb ln", BT * E),
      mean: await f("emb mean", BT),
      rstd: await f("emb rstd", BT),
      drop: await f("emb drop", BT * E),
      proj: E !== C ? await f("emb proj", BT * C) : null,
    };
    const dims: LayerDims = {
      C,
      NH,
      I,
      eps: cfg.layerNormEps,
      act: KERNEL_ACT[cfg.activation],
      pHidden: o.hiddenDropout,
      pAttn: o.attentionDropout,
    };
    const layers: LayerActivations[] = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      layers.push(await allocateLayer(gpu, l, dims, o.maxBatch, o.maxLength));
    }
    const maxRows = cfg.head === "token_classification" ? BT : o.maxBatch;
    const head = await allocateHead(gpu, C, L, maxRows);
    const probs = o.maxBatch * NH * o.maxLength * o.maxLength;
    const maxC = Math.max(C, E);
    const grads: GradBuffers = {
      dxA: await f("dx a", BT * C),
      dxB: await f("dx b", BT * C),
      dC1: await f("dC1", BT * C),
      dC2: await f("dC2", BT * C),
      dI1: await f("dI1", BT * I),
      dI2: await f("dI2", BT * I),
      dqkv: await f("dqkv", BT * 3 * C),
      attnScratch: await f("attention backward scratch", 2 * probs),
      // LayerNorm backward partials: [2, G, C] with G <= rows; sized for the widest row.
      lnScratch: await f("layernorm scratch", 2 * BT * maxC),
      dEmb: await f("d emb", BT * E),
      dEmbLn: await f("d emb ln", BT * E),
      lnSinkW: await f("unused LN dweight", maxC),
      lnSinkB: await f("unused LN dbias", maxC),
      losses: await f("losses", maxRows),
      loss: await f("loss", 1),
      dlogits: await f("dlogits", maxRows * L),
    };
    const mlm = cfg.head === "masked_lm" ? await allocateMlm(gpu, cfg, o.maxBatch, o.maxLength) : null;
    return new Encoder(gpu, cfg, store, o, inputs, emb, layers, head, grads, mlm);
  }

  /** Head dims for a batch shape (dropout `p` as given). */
  headDims(B: number, T: number, pDrop: number): HeadDims {
    return {
      style: headStyle(this.cfg),
      B,
      T,
      C: this.cfg.hiddenSize,
      L: this.cfg.numLabels,
      pDrop,
      layer: this.cfg.numLayers,
    };
  }

  /** Head activations viewed for a batch shape. */
  headViews(B: number, T: number): HeadActivations {
    return headViews(this.head, this.cfg.hiddenSize, this.cfg.numLabels, this.rows(B, T));
  }

  /** Writes a batch's inputs (ids, positions, types, key mask, gradient buckets, targets) to the GPU. */
  writeBatch(batch: EncodedBatch): void {
    const { B, T } = batch;
    const cfg = this.cfg;
    checkBatchFits(B, T, this.options);
    const ids = vocabIds(batch.inputIds, cfg.vocabSize, "token");
    const types = Uint32Array.from(batch.tokenTypeIds);
    const pos = positionIds(ids, { B, T }, { roberta: cfg.modelType === "roberta", padId: cfg.padTokenId });
    const { keyMask, lengths } = keyMaskOf(batch.attentionMask, B, T);
    const inp = this.inputs;
    writeTensor(this.gpu, inp.ids, ids);
    writeTensor(this.gpu, inp.posIds, pos);
    writeTensor(this.gpu, inp.typeIds, types);
    writeTensor(this.gpu, inp.keyMask, keyMask);
    writeTensor(this.gpu, inp.lengths, lengths);
    // nn.Embedding(padding_idx=pad): the pad row gets no gradient, so pad positions are left out of its bucket.
    const noPad = (xs: Uint32Array) => Array.from(xs, (x, i) => (ids[i] === cfg.padTokenId ? -1 : x));
    writeTensor(this.gpu, inp.wteBuckets, bucketsWithout(noPad(ids), cfg.vocabSize));
    writeTensor(
      this.gpu,
      inp.wpeBuckets,
      cfg.modelType === "roberta"
        ? bucketsWithout(noPad(pos), cfg.maxPositionEmbeddings)
        : embeddingBuckets(pos, cfg.maxPositionEmbeddings),
    );
    writeTensor(this.gpu, inp.wttBuckets, embeddingBuckets(types, cfg.typeVocabSize));
    if (batch.labels && this.mlm) writeMlmLabels(this.gpu, this.mlm, batch.labels, B, T);
    else if (batch.labels) {
      if (cfg.head === "regression") writeTensor(this.gpu, inp.targetsF, Float32Array.from(batch.labels));
      else writeTensor(this.gpu, inp.targets, Int32Array.from(batch.labels));
    }
  }

  /** Sets the random step (every dropout and AD-DROP mask of the step derives from [seed, step]). */
  setStep(seed: number, step: number): void {
    writeTensor(this.gpu, this.inputs.rng, new Uint32Array([seed >>> 0, step >>> 0]));
  }

  /** Frees every allocation except the parameter store. */
  destroy(): void {
    const all = [
      ...Object.values(this.inputs),
      ...Object.values(this.emb),
      ...this.layers.flatMap((l) => Object.values(l)),
      ...Object.values(this.head),
      ...Object.values(this.grads),
      ...Object.values(this.mlm ?? {}),
    ] as (Tensor | null)[];
    for (const t of all) t?.destroy();
  }
}

/** Throws when a B x T batch exceeds the allocation. */
export function checkBatchFits(B: number, T: number, o: { maxBatch: number; maxLength: number }): void {
  if (B > o.maxBatch || T > o.maxLength) {
    throw new RangeError(`batch ${B} x ${T} exceeds the allocation ${o.maxBatch} x ${o.maxLength}`);
  }
}

/** The ids as u32, each checked against the vocabulary (a RangeError names the `what` id and vocab_size). */
export function vocabIds(values: ArrayLike<number>, vocabSize: number, what: string): Uint32Array {
  const ids = Uint32Array.from(values);
  for (const id of ids) {
    if (id >= vocabSize) {
      throw new RangeError(`${what} id ${id} is outside the vocabulary of ${vocabSize} (vocab_size)`);
    }
  }
  return ids;
}

/** HF's additive key mask (0 or f32 min) of a (B, T) attention mask, and each example's number of real tokens. */
export function keyMaskOf(
  mask: ArrayLike<number>,
  B: number,
  T: number,
): { keyMask: Float32Array; lengths: Uint32Array } {
  const keyMask = new Float32Array(B * T);
  const lengths = new Uint32Array(B);
  for (let i = 0; i < B * T; i++) {
    keyMask[i] = mask[i] ? 0 : MASK_MIN;
    if (mask[i]) lengths[Math.floor(i / T)]++;
  }
  return { keyMask, lengths };
}

/**
 * Bucket lists of the ids with entries of -1 left out: those positions add to no row (padding_idx).
 * Implemented by routing them to an extra row past the table and dropping that row's bucket.
 */
export function bucketsWithout(ids: number[], rows: number): Uint32Array {
  const routed = ids.map((x) => (x < 0 ? rows : x));
  const packed = embeddingBuckets(routed, rows + 1);
  const N = ids.length;
  const count = packed[0];
  if (count > 0 && packed[count] === rows) packed[0] = count - 1; // rows ascend: the extra row is last
  void N;
  return packed;
}

/** The dispatch lists of a program (re-exported for program.ts). */
export type DispatchList = Dispatch[];
