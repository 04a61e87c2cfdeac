/**
 * The masked-language-model head of Hugging Face's `BertForMaskedLM` over the masked positions only:
 *   h = LayerNorm(act(W_t x + b_t)); logits = h @ wte^T + bias (V wide); loss = CE(logits, targets)
 * with the decoder weight TIED to `bert.embeddings.word_embeddings.weight`, so the backward adds
 * `dlogits^T h` into the word-embedding gradient. The rows predicted are gathered first: P slots per batch
 * ({@linkcode mlmSlots}), filled with the masked positions in row-major order, the rest padded (target -100).
 * Forward, loss and backward as flat call lists, like src/model/head.ts.
 *
 * Legend: B batch, T tokens, N = B*T, P prediction slots, C hidden, V vocabulary.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor, writeTensor } from "../gpu/tensor.ts";
import { type Activation, activationBackward, activationForward } from "../kernels/activation.ts";
import { gatherRowsBackward, gatherRowsForward, NOT_GATHERED } from "../kernels/gather_rows.ts";
import { layernormBackward, layernormForward, layernormScratchShape } from "../kernels/layernorm.ts";
import { crossEntropyForward } from "../kernels/loss.ts";
import { matmulBackward, matmulForward } from "../kernels/matmul.ts";
import type { ModelConfig } from "./config.ts";
import type { ParamStore } from "./param_store.ts";
import { InputError } from "../io/input_error.ts";

/** Share of the tokens a batch may mask at most per sequence (BERT's 15%, rounded up, at least 1). */
export const MLM_MAX_SHARE = 0.15;

/** Prediction slots of a B x T batch: `B * max(1, ceil(0.15 T))`, enough for BERT's 15% of every sequence. */
export function mlmSlots(B: number, T: number): number {
  return B * Math.max(1, Math.ceil(MLM_MAX_SHARE * T));
}

/** Hugging Face names of the head's parameters (the decoder weight is the word embeddings). */
export function mlmNames(prefix: string) {
  const t = "cls.predictions.transform";
  return {
    dense: `${t}.dense`,
    ln: `${t}.LayerNorm`,
    bias: "cls.predictions.bias",
    wte: `${prefix}.embeddings.word_embeddings.weight`,
  };
}

/** The head's inputs and activations, sized for the largest batch. */
export interface MlmActivations {
  /** (P) u32: the row of each slot in the (N, C) hidden states. */
  rows: Tensor;
  /** (N) u32: the slot of each row, {@linkcode NOT_GATHERED} if none. */
  slot: Tensor;
  /** (P) i32: the original token of each slot, -100 for padding slots. */
  targets: Tensor;
  x: Tensor;
  dense: Tensor;
  act: Tensor;
  ln: Tensor;
  mean: Tensor;
  rstd: Tensor;
  logits: Tensor;
  losses: Tensor;
  loss: Tensor;
  dlogits: Tensor;
  d1: Tensor;
  d2: Tensor;
  lnScratch: Tensor;
}

/** Allocates the head for batches up to `maxBatch` x `maxLength`. */
export async function allocateMlm(
  gpu: Gpu,
  cfg: ModelConfig,
  maxBatch: number,
  maxLength: number,
): Promise<MlmActivations> {
  if (cfg.embeddingSize !== cfg.hiddenSize) {
    throw new InputError(
      `masked_lm head: embedding size ${cfg.embeddingSize} differs from hidden size ${cfg.hiddenSize} ` +
        `(the tied decoder needs them equal)`,
    );
  }
  const C = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const P = mlmSlots(maxBatch, maxLength);
  const N = maxBatch * maxLength;
  const f = (label: string, n: number) => createTensor(gpu, [n], "f32", { label: `mlm ${label}` });
  return {
    rows: await createTensor(gpu, [P], "u32", { label: "mlm rows" }),
    slot: await createTensor(gpu, [N], "u32", { label: "mlm slot" }),
    targets: await createTensor(gpu, [P], "i32", { label: "mlm targets" }),
    x: await f("x", P * C),
    dense: await f("dense", P * C),
    act: await f("act", P * C),
    ln: await f("ln", P * C),
    mean: await f("mean", P),
    rstd: await f("rstd", P),
    logits: await f("logits", P * V),
    losses: await f("losses", P),
    loss: await f("loss", 1),
    dlogits: await f("dlogits", P * V),
    d1: await f("d1", P * C),
    d2: await f("d2", P * C),
    lnScratch: await f("layernorm scratch", layernormScratchShape({ rows: P, C }).reduce((a, b) => a * b, 1)),
  };
}

/** Views of the head for a B x T batch. */
export function mlmViews(m: MlmActivations, C: number, V: number, B: number, T: number): MlmActivations {
  const P = mlmSlots(B, T);
  const pc = (t: Tensor) => t.view([P, C]);
  return {
    rows: m.rows.view([P]),
    slot: m.slot.view([B * T]),
    targets: m.targets.view([P]),
    x: pc(m.x),
    dense: pc(m.dense),
    act: pc(m.act),
    ln: pc(m.ln),
    mean: m.mean.view([P]),
    rstd: m.rstd.view([P]),
    logits: m.logits.view([P, V]),
    losses: m.losses.view([P]),
    loss: m.loss,
    dlogits: m.dlogits.view([P, V]),
    d1: pc(m.d1),
    d2: pc(m.d2),
    lnScratch: m.lnScratch.view(layernormScratchShape({ rows: P, C })),
  };
}

/** The slot layout of a batch's MLM labels (B, T): rows, their inverse and the targets of the P slots. */
export function mlmSlotLayout(
  labels: ArrayLike<number>,
  B: number,
  T: number,
): { rows: Uint32Array; slot: Uint32Array; targets: Int32Array } {
  const P = mlmSlots(B, T);
  const N = B * T;
  const rows = new Uint32Array(P);
  const slot = new Uint32Array(N).fill(NOT_GATHERED);
  const targets = new Int32Array(P).fill(-100);
  let p = 0;
  for (let n = 0; n < N; n++) {
    if (labels[n] === -100) continue;
    if (p === P) {
      throw new RangeError(
        `MLM labels: more than ${P} labelled positions in a ${B} x ${T} batch (at most ` +
          `max(1, ceil(${MLM_MAX_SHARE} T)) per sequence on average)`,
      );
    }
    rows[p] = n;
    slot[n] = p;
    targets[p++] = labels[n];
  }
  return { rows, slot, targets };
}

/** Writes the slot layout of a batch's MLM labels (B, T) into the head's inputs. */
export function writeMlmLabels(gpu: Gpu, m: MlmActivations, labels: ArrayLike<number>, B: number, T: number) {
  const { rows, slot, targets } = mlmSlotLayout(labels, B, T);
  writeTensor(gpu, m.rows, rows);
  writeTensor(gpu, m.slot, slot);
  writeTensor(gpu, m.targets, targets);
}

/** Shapes of one head call. */
export interface MlmDims {
  B: number;
  T: number;
  C: number;
  V: number;
  eps: number;
  act: Activation;
  /** Model prefix (`bert`) of the tied word embeddings. */
  prefix: string;
}

/** Forward: x (N, C) -> logits (P, V) over the masked positions. `m` are views for this shape. */
export async function mlmForward(
  gpu: Gpu,
  store: ParamStore,
  x: Tensor,
  m: MlmActivations,
  d: MlmDims,
): Promise<Dispatch[]> {
  const { B, T, C, V } = d;
  const P = mlmSlots(B, T);
  const n = mlmNames(d.prefix);
  return [
    await gatherRowsForward(gpu, { out: m.x, inp: x.view([B * T, C]), rows: m.rows }, { P, N: B * T, C }),
    ...await matmulForward(gpu, {
      out: m.dense,
      inp: m.x,
      weight: store.param(`${n.dense}.weight`),
      bias: store.param(`${n.dense}.bias`),
    }, { M: P, K: C, N: C }),
    await activationForward(gpu, { out: m.act, inp: m.dense }, { kind: d.act }),
    await layernormForward(gpu, {
      out: m.ln,
      mean: m.mean,
      rstd: m.rstd,
      inp: m.act,
      weight: store.param(`${n.ln}.weight`),
      bias: store.param(`${n.ln}.bias`),
    }, { rows: P, C, eps: d.eps }),
    ...await matmulForward(gpu, {
      out: m.logits,
      inp: m.ln,
      weight: store.param(n.wte),
      bias: store.param(n.bias),
    }, {
      M: P,
      K: C,
      N: V,
    }),
  ];
}

/** Loss: mean cross-entropy over the slots with a target; writes `dlogits`. */
export function mlmLoss(gpu: Gpu, m: MlmActivations, d: MlmDims): Promise<Dispatch[]> {
  return crossEntropyForward(gpu, {
    loss: m.loss,
    losses: m.losses,
    dlogits: m.dlogits,
    logits: m.logits,
    targets: m.targets,
  }, { N: mlmSlots(d.B, d.T), V: d.V });
}

/**
 * Backward: dlogits (P, V) -> dx (N, C), written for every row (zeros where nothing was predicted). Parameter
 * gradients accumulate, the decoder's into the word-embedding gradient (tied weights).
 */
export async function mlmBackward(
  gpu: Gpu,
  store: ParamStore,
  m: MlmActivations,
  g: { dlogits: Tensor; dx: Tensor },
  d: MlmDims,
): Promise<Dispatch[]> {
  const { B, T, C, V } = d;
  const P = mlmSlots(B, T);
  const n = mlmNames(d.prefix);
  return [
    ...await matmulBackward(gpu, {
      dinp: m.d1,
      dweight: store.grad(n.wte),
      dbias: store.grad(n.bias),
      dout: g.dlogits,
      inp: m.ln,
      weight: store.param(n.wte),
    }, { M: P, K: C, N: V }),
    ...await layernormBackward(gpu, {
      dinp: m.d2,
      dweight: store.grad(`${n.ln}.weight`),
      dbias: store.grad(`${n.ln}.bias`),
      scratch: m.lnScratch,
      dout: m.d1,
      inp: m.act,
      weight: store.param(`${n.ln}.weight`),
      mean: m.mean,
      rstd: m.rstd,
    }, { rows: P, C }),
    await activationBackward(gpu, { dinp: m.d1, dout: m.d2, inp: m.dense }, { kind: d.act }),
    ...await matmulBackward(gpu, {
      dinp: m.d2,
      dweight: store.grad(`${n.dense}.weight`),
      dbias: store.grad(`${n.dense}.bias`),
      dout: m.d1,
      inp: m.x,
      weight: store.param(`${n.dense}.weight`),
    }, { M: P, K: C, N: C }),
    await gatherRowsBackward(gpu, { dinp: g.dx.view([B * T, C]), dout: m.d2, slot: m.slot }, {
      P,
      N: B * T,
      C,
    }),
  ];
}
