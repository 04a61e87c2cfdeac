/**
 * One Marian decoder layer (post-LayerNorm) on the GPU: causal self-attention, cross-attention over the encoder
 * output, feed-forward; its activations, and its forward and backward as flat call lists (the backward in exact
 * reverse order).
 *
 *   qkv = x Wqkv^T + b;  ctx = attention(qkv, causal);  h1 = LN1(dropout(ctx Wo^T + bo) + x)
 *   cqkv = [h1 Wq^T + bq | enc Wkv^T + bkv];  cctx = attention(cqkv, source key mask)
 *   h2 = LN2(dropout(cctx Wco^T + bco) + h1);  out = LN3(dropout(W2 act(W1 h2 + b1) + b2) + h2)
 *
 * The cross-attention runs the self-attention kernels on a fused (B, T, 3C) tensor whose query columns come
 * from the decoder and key/value columns from the encoder, so sources and targets share the batch's length T
 * (padded keys are masked, padded queries carry no loss). Legend: B batch, T tokens, C hidden, NH heads,
 * F feed-forward width.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import { type Activation, activationBackward, activationForward } from "../kernels/activation.ts";
import { attentionBackward, attentionForward, attentionScratchShape } from "../kernels/attention.ts";
import { copyColumns } from "../kernels/copy_columns.ts";
import { dropoutBackward, dropoutForward } from "../kernels/dropout.ts";
import { layernormBackward, layernormForward } from "../kernels/layernorm.ts";
import { matmulBackward, matmulForward } from "../kernels/matmul.ts";
import { residualForward } from "../kernels/residual.ts";
import type { marianDecoderNames } from "./marian_weights.ts";
import type { ParamStore } from "./param_store.ts";

/** Sizes of a decoder layer for one batch shape, with its dropout and random-stream layer index. */
export interface DecoderLayerDims {
  B: number;
  T: number;
  C: number;
  NH: number;
  F: number;
  eps: number;
  act: Activation;
  pHidden: number;
  pAttn: number;
  /** Random-stream layer index of this layer's dropouts. */
  layer: number;
}

function shapes(C: number, NH: number, F: number, B: number, T: number) {
  const BT = [B, T];
  const sq = [B, NH, T, T];
  return {
    qkv: [...BT, 3 * C],
    probs: sq,
    attnScratch: sq,
    ctx: [...BT, C],
    attnOut: [...BT, C],
    attnDrop: [...BT, C],
    res1: [...BT, C],
    ln1: [...BT, C],
    mean1: [B * T],
    rstd1: [B * T],
    q: [...BT, C],
    kv: [...BT, 2 * C],
    cqkv: [...BT, 3 * C],
    cprobs: sq,
    cscratch: sq,
    cctx: [...BT, C],
    cattnOut: [...BT, C],
    cattnDrop: [...BT, C],
    res2: [...BT, C],
    ln2: [...BT, C],
    mean2: [B * T],
    rstd2: [B * T],
    fc1: [...BT, F],
    act: [...BT, F],
    fc2: [...BT, C],
    fc2Drop: [...BT, C],
    res3: [...BT, C],
    out: [...BT, C],
    mean3: [B * T],
    rstd3: [B * T],
  };
}

/** The tensors a decoder layer's backward needs from its forward. */
export type DecoderActivations = Record<keyof ReturnType<typeof shapes>, Tensor>;

/** Allocates decoder layer `l`'s activations for batches up to `maxB` x `maxT`. */
export async function allocateDecoderLayer(
  gpu: Gpu,
  l: number,
  d: { C: number; NH: number; F: number },
  maxB: number,
  maxT: number,
): Promise<DecoderActivations> {
  const out = {} as DecoderActivations;
  for (const [n, shape] of Object.entries(shapes(d.C, d.NH, d.F, maxB, maxT))) {
    const size = shape.reduce((x, y) => x * y, 1);
    out[n as keyof DecoderActivations] = await createTensor(gpu, [size], "f32", {
      label: `decoder ${l} ${n}`,
    });
  }
  return out;
}

/** Views of a decoder layer's activations for a batch of B x T. */
export function decoderLayerViews(
  a: DecoderActivations,
  d: { C: number; NH: number; F: number },
  B: number,
  T: number,
): DecoderActivations {
  const out = {} as DecoderActivations;
  for (const [n, shape] of Object.entries(shapes(d.C, d.NH, d.F, B, T))) {
    out[n as keyof DecoderActivations] = a[n as keyof DecoderActivations].view(shape);
  }
  return out;
}

/** Per-batch inputs of a decoder layer. */
export interface DecoderInputs {
  /** The encoder's output (B, T, C). */
  enc: Tensor;
  /** Zeros (B, T): the self-attention masks no key by padding (the causal mask hides what follows). */
  selfKeyMask: Tensor;
  /** The causal mask (B, NH, T, T): f32 min above the diagonal. */
  causal: Tensor;
  /** The source key mask (B, T). */
  srcKeyMask: Tensor;
  rng: Tensor;
}

type Names = ReturnType<typeof marianDecoderNames>;

/** Forward of a decoder layer: x (B, T, C) -> a.out. */
export async function decoderLayerForward(
  gpu: Gpu,
  store: ParamStore,
  n: Names,
  x: Tensor,
  a: DecoderActivations,
  inp: DecoderInputs,
  d: DecoderLayerDims,
): Promise<Dispatch[]> {
  const { B, T, C, NH, F } = d;
  const M = B * T;
  const w = (k: string) => store.param(`${k}.weight`);
  const b = (k: string) => store.param(`${k}.bias`);
  const lin = (out: Tensor, inp: Tensor, k: string, K: number, N: number) =>
    matmulForward(gpu, { out, inp, weight: w(k), bias: b(k) }, { M, K, N });
  const attn = (slot: number) => ({ B, T, C, NH, pDrop: d.pAttn, layer: d.layer, slot });
  const scratch = (t: Tensor) => (attentionScratchShape(attn(0), "forward") ? t : null);
  const drop = (out: Tensor, src: Tensor, slot: number) =>
    dropoutForward(gpu, { out, inp: src, rng: inp.rng }, { p: d.pHidden, layer: d.layer, slot });
  const ln = (out: Tensor, mean: Tensor, rstd: Tensor, res: Tensor, k: string) =>
    layernormForward(gpu, { out, mean, rstd, inp: res, weight: w(k), bias: b(k) }, {
      rows: M,
      C,
      eps: d.eps,
    });
  return [
    // Causal self-attention.
    ...await lin(a.qkv, x, n.qkv, C, 3 * C),
    ...await attentionForward(gpu, {
      out: a.ctx,
      probs: a.probs,
      qkv: a.qkv,
      keyMask: inp.selfKeyMask,
      addMask: inp.causal,
      alpha: null,
      rng: inp.rng,
      scratch: scratch(a.attnScratch),
    }, attn(0)),
    ...await lin(a.attnOut, a.ctx, n.attnOut, C, C),
    await drop(a.attnDrop, a.attnOut, 1),
    await residualForward(gpu, { out: a.res1, inp1: a.attnDrop, inp2: x }),
    await ln(a.ln1, a.mean1, a.rstd1, a.res1, n.ln1),
    // Cross-attention: queries from the decoder, keys and values from the encoder.
    ...await lin(a.q, a.ln1, n.crossQ, C, C),
    ...await lin(a.kv, inp.enc, n.crossKv, C, 2 * C),
    await copyColumns(gpu, { out: a.cqkv, inp: a.q }, cols(M, C, 0, C, 3 * C, 0)),
    await copyColumns(gpu, { out: a.cqkv, inp: a.kv }, cols(M, 2 * C, C, 2 * C, 3 * C, 0)),
    ...await attentionForward(gpu, {
      out: a.cctx,
      probs: a.cprobs,
      qkv: a.cqkv,
      keyMask: inp.srcKeyMask,
      addMask: null,
      alpha: null,
      rng: inp.rng,
      scratch: scratch(a.cscratch),
    }, attn(1)),
    ...await lin(a.cattnOut, a.cctx, n.crossOut, C, C),
    await drop(a.cattnDrop, a.cattnOut, 2),
    await residualForward(gpu, { out: a.res2, inp1: a.cattnDrop, inp2: a.ln1 }),
    await ln(a.ln2, a.mean2, a.rstd2, a.res2, n.ln2),
    // Feed-forward.
    ...await lin(a.fc1, a.ln2, n.fc1, C, F),
    await activationForward(gpu, { out: a.act, inp: a.fc1 }, { kind: d.act }),
    ...await lin(a.fc2, a.act, n.fc2, F, C),
    await drop(a.fc2Drop, a.fc2, 3),
    await residualForward(gpu, { out: a.res3, inp1: a.fc2Drop, inp2: a.ln2 }),
    await ln(a.out, a.mean3, a.rstd3, a.res3, n.ln3),
  ];
}

/** copyColumns dims: `width` columns from column `inpOffset` of rows of `inpStride` to `outOffset` of `outStride`. */
function cols(
  rows: number,
  width: number,
  outOffset: number,
  inpStride: number,
  outStride: number,
  inpOffset: number,
) {
  return { rows, width, outStride, outOffset, inpStride, inpOffset };
}

/** Backward scratch shared by the decoder layers (views for one batch shape). */
export interface DecoderGradScratch {
  dC1: Tensor;
  dC2: Tensor;
  dC3: Tensor;
  dI1: Tensor;
  dI2: Tensor;
  dqkv: Tensor;
  dkv: Tensor;
  lnScratch: Tensor;
  attnScratch: Tensor;
}

/**
 * Backward of a decoder layer: from dout = dLoss/d(a.out) to dx (written) and dEnc (the encoder output's
 * gradient: written when `firstEnc`, else accumulated). Parameter gradients accumulate into the store.
 */
export async function decoderLayerBackward(
  gpu: Gpu,
  store: ParamStore,
  n: Names,
  x: Tensor,
  a: DecoderActivations,
  inp: DecoderInputs,
  g: {
    dout: Tensor;
    dx: Tensor;
    dEnc: Tensor;
    firstEnc: boolean;
    s: DecoderGradScratch;
    /** Whether parameter gradients accumulate (training) or not (attribution: LayerNorm's go to `lnSink`). */
    paramGrads: boolean;
    lnSink: { dweight: Tensor; dbias: Tensor };
    /** Whether dx is needed (false for the lowest decoder layer of an attribution backward). */
    needDx: boolean;
  },
  d: DecoderLayerDims,
): Promise<Dispatch[]> {
  const { B, T, C, NH, F } = d;
  const M = B * T;
  const s = g.s;
  const w = (k: string) => store.param(`${k}.weight`);
  const lin = (
    dinp: Tensor | null,
    dout: Tensor,
    inpT: Tensor,
    k: string,
    K: number,
    N: number,
    accumulate: boolean,
  ) =>
    matmulBackward(gpu, {
      dinp,
      dweight: g.paramGrads ? store.grad(`${k}.weight`) : null,
      dbias: g.paramGrads ? store.grad(`${k}.bias`) : null,
      dout,
      inp: inpT,
      weight: w(k),
    }, { M, K, N, accumulateInput: accumulate });
  const ln = (dinp: Tensor, dout: Tensor, res: Tensor, mean: Tensor, rstd: Tensor, k: string) =>
    layernormBackward(gpu, {
      dinp,
      ...(g.paramGrads ? { dweight: store.grad(`${k}.weight`), dbias: store.grad(`${k}.bias`) } : g.lnSink),
      scratch: s.lnScratch,
      dout,
      inp: res,
      weight: w(k),
      mean,
      rstd,
    }, { rows: M, C });
  const drop = (dinp: Tensor, dout: Tensor, slot: number) =>
    dropoutBackward(gpu, { dinp, dout, rng: inp.rng }, { p: d.pHidden, layer: d.layer, slot });
  const attn = (slot: number) => ({ B, T, C, NH, pDrop: d.pAttn, layer: d.layer, slot });
  const attnBack = (
    dout: Tensor,
    qkv: Tensor,
    probs: Tensor,
    keyMask: Tensor,
    addMask: Tensor | null,
    slot: number,
  ) =>
    attentionBackward(gpu, {
      dqkv: s.dqkv,
      dprobs: null,
      dout,
      qkv,
      probs,
      keyMask,
      addMask,
      alpha: null,
      rng: inp.rng,
      scratch: s.attnScratch,
    }, attn(slot));
  return [
    // Feed-forward: out = LN3(drop(fc2) + h2).
    ...await ln(s.dC1, g.dout, a.res3, a.mean3, a.rstd3, n.ln3),
    await drop(s.dC2, s.dC1, 3),
    ...await lin(s.dI1, s.dC2, a.act, n.fc2, F, C, false),
    await activationBackward(gpu, { dinp: s.dI2, dout: s.dI1, inp: a.fc1 }, { kind: d.act }),
    ...await lin(s.dC1, s.dI2, a.ln2, n.fc1, C, F, true),
    // Cross-attention: h2 = LN2(drop(cctx Wco) + h1).
    ...await ln(s.dC3, s.dC1, a.res2, a.mean2, a.rstd2, n.ln2),
    await drop(s.dC2, s.dC3, 2),
    ...await lin(s.dC1, s.dC2, a.cctx, n.crossOut, C, C, false),
    ...await attnBack(s.dC1, a.cqkv, a.cprobs, inp.srcKeyMask, null, 1),
    await copyColumns(gpu, { out: s.dC2, inp: s.dqkv }, cols(M, C, 0, 3 * C, C, 0)),
    await copyColumns(gpu, { out: s.dkv, inp: s.dqkv }, cols(M, 2 * C, 0, 3 * C, 2 * C, C)),
    ...await lin(s.dC3, s.dC2, a.ln1, n.crossQ, C, C, true),
    ...await lin(g.dEnc, s.dkv, inp.enc, n.crossKv, C, 2 * C, !g.firstEnc),
    // Self-attention: h1 = LN1(drop(ctx Wo) + x).
    ...await ln(g.dx, s.dC3, a.res1, a.mean1, a.rstd1, n.ln1),
    await drop(s.dC2, g.dx, 1),
    ...await lin(s.dC1, s.dC2, a.ctx, n.attnOut, C, C, false),
    ...await attnBack(s.dC1, a.qkv, a.probs, inp.selfKeyMask, inp.causal, 0),
    ...(g.paramGrads || g.needDx ? await lin(g.needDx ? g.dx : null, s.dqkv, x, n.qkv, C, 3 * C, true) : []),
  ];
}
