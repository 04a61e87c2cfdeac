/**
 * One encoder layer (post-LayerNorm, as in BERT) on the GPU: its activations, allocated once for the largest
 * batch, and its forward and backward as flat call lists, the backward in exact reverse order.
 *
 *   qkv = x Wqkv^T + b;  ctx, A = attention(qkv, keyMask, addMask);  r1 = dropout(ctx Wo^T + bo) + x;
 *   h1 = LN1(r1);  f1 = h1 W1^T + b1;  g = act(f1);  r2 = dropout(g W2^T + b2) + h1;  out = LN2(r2)
 *
 * Legend: B batch, T tokens, C hidden, NH heads, I intermediate size.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import { type Activation, activationBackward, activationForward } from "../kernels/activation.ts";
import { attentionBackward, attentionForward, attentionScratchShape } from "../kernels/attention.ts";
import { dropoutBackward, dropoutForward } from "../kernels/dropout.ts";
import { layernormBackward, layernormForward } from "../kernels/layernorm.ts";
import { matmulBackward, matmulForward } from "../kernels/matmul.ts";
import { residualForward } from "../kernels/residual.ts";
import type { ParamStore } from "./param_store.ts";

/** Sizes shared by every layer. */
export interface LayerDims {
  C: number;
  NH: number;
  I: number;
  eps: number;
  act: Activation;
  pHidden: number;
  pAttn: number;
}

/** The tensors the layer's backward (and AD-DROP's attribution) needs from its forward. */
export interface LayerActivations {
  qkv: Tensor;
  probs: Tensor;
  attnScratch: Tensor;
  ctx: Tensor;
  attnOut: Tensor;
  attnDrop: Tensor;
  res1: Tensor;
  ln1: Tensor;
  mean1: Tensor;
  rstd1: Tensor;
  fc1: Tensor;
  act: Tensor;
  fc2: Tensor;
  fc2Drop: Tensor;
  res2: Tensor;
  out: Tensor;
  mean2: Tensor;
  rstd2: Tensor;
}

/** Allocates one layer's activations for batches up to `maxB` x `maxT`. */
export async function allocateLayer(
  gpu: Gpu,
  l: number,
  d: LayerDims,
  maxB: number,
  maxT: number,
): Promise<LayerActivations> {
  const { C, NH, I } = d;
  const BT = maxB * maxT;
  const a = (label: string, n: number) => createTensor(gpu, [n], "f32", { label: `layer ${l} ${label}` });
  const probsSize = maxB * NH * maxT * maxT;
  return {
    qkv: await a("qkv", BT * 3 * C),
    probs: await a("probs", probsSize),
    attnScratch: await a("attention scratch", probsSize),
    ctx: await a("ctx", BT * C),
    attnOut: await a("attn out", BT * C),
    attnDrop: await a("attn drop", BT * C),
    res1: await a("res1", BT * C),
    ln1: await a("ln1", BT * C),
    mean1: await a("mean1", BT),
    rstd1: await a("rstd1", BT),
    fc1: await a("fc1", BT * I),
    act: await a("act", BT * I),
    fc2: await a("fc2", BT * C),
    fc2Drop: await a("fc2 drop", BT * C),
    res2: await a("res2", BT * C),
    out: await a("out", BT * C),
    mean2: await a("mean2", BT),
    rstd2: await a("rstd2", BT),
  };
}

/** Views of a layer's activations for a batch of B x T. */
export function layerViews(acts: LayerActivations, d: LayerDims, B: number, T: number): LayerActivations {
  const { C, NH, I } = d;
  const BT = B * T;
  const v = (t: Tensor, shape: number[]) => t.view(shape);
  return {
    qkv: v(acts.qkv, [B, T, 3 * C]),
    probs: v(acts.probs, [B, NH, T, T]),
    attnScratch: v(acts.attnScratch, [B, NH, T, T]),
    ctx: v(acts.ctx, [B, T, C]),
    attnOut: v(acts.attnOut, [B, T, C]),
    attnDrop: v(acts.attnDrop, [B, T, C]),
    res1: v(acts.res1, [B, T, C]),
    ln1: v(acts.ln1, [B, T, C]),
    mean1: v(acts.mean1, [BT]),
    rstd1: v(acts.rstd1, [BT]),
    fc1: v(acts.fc1, [B, T, I]),
    act: v(acts.act, [B, T, I]),
    fc2: v(acts.fc2, [B, T, C]),
    fc2Drop: v(acts.fc2Drop, [B, T, C]),
    res2: v(acts.res2, [B, T, C]),
    out: v(acts.out, [B, T, C]),
    mean2: v(acts.mean2, [BT]),
    rstd2: v(acts.rstd2, [BT]),
  };
}

/** Per-batch inputs every layer reads. */
export interface LayerInputs {
  keyMask: Tensor;
  rng: Tensor;
  /** AD-DROP's additive mask of this layer (B, NH, T, T), or null. */
  addMask: Tensor | null;
  /** Integrated gradients' per-example scale of the attention probabilities (B), or null. */
  alpha: Tensor | null;
}

/** Parameter names of layer `l` (Hugging Face names, fused Q/K/V). */
export function layerParamNames(prefix: string, l: number) {
  const at = `${prefix}.encoder.layer.${l}.`;
  return {
    qkv: `${at}attention.self.qkv`,
    attnOut: `${at}attention.output.dense`,
    ln1: `${at}attention.output.LayerNorm`,
    fc1: `${at}intermediate.dense`,
    fc2: `${at}output.dense`,
    ln2: `${at}output.LayerNorm`,
  };
}

/** Forward of layer `l`: x (B, T, C) -> acts.out; `skipQkv` leaves out the Q, K, V projection (acts.qkv kept). */
export async function layerForward(
  gpu: Gpu,
  store: ParamStore,
  names: ReturnType<typeof layerParamNames>,
  x: Tensor,
  a: LayerActivations,
  inp: LayerInputs,
  d: LayerDims & { B: number; T: number; layer: number; skipQkv?: boolean },
): Promise<Dispatch[]> {
  const { B, T, C, NH, I } = d;
  const M = B * T;
  const w = (n: string) => store.param(`${n}.weight`);
  const b = (n: string) => store.param(`${n}.bias`);
  const attn = { B, T, C, NH, pDrop: d.pAttn, layer: d.layer };
  const scratch = attentionScratchShape(attn, "forward", inp.alpha !== null) ? a.attnScratch : null;
  const qkv = d.skipQkv ? [] : await matmulForward(gpu, {
    out: a.qkv,
    inp: x,
    weight: w(names.qkv),
    bias: b(names.qkv),
  }, { M, K: C, N: 3 * C });
  return [
    ...qkv,
    ...await attentionForward(gpu, {
      out: a.ctx,
      probs: a.probs,
      qkv: a.qkv,
      keyMask: inp.keyMask,
      addMask: inp.addMask,
      alpha: inp.alpha,
      rng: inp.rng,
      scratch,
    }, attn),
    ...await matmulForward(
      gpu,
      { out: a.attnOut, inp: a.ctx, weight: w(names.attnOut), bias: b(names.attnOut) },
      {
        M,
        K: C,
        N: C,
      },
    ),
    await dropoutForward(gpu, { out: a.attnDrop, inp: a.attnOut, rng: inp.rng }, {
      p: d.pHidden,
      layer: d.layer,
      slot: 1,
    }),
    await residualForward(gpu, { out: a.res1, inp1: a.attnDrop, inp2: x }),
    await layernormForward(gpu, {
      out: a.ln1,
      mean: a.mean1,
      rstd: a.rstd1,
      inp: a.res1,
      weight: w(names.ln1),
      bias: b(names.ln1),
    }, { rows: M, C, eps: d.eps }),
    ...await matmulForward(gpu, { out: a.fc1, inp: a.ln1, weight: w(names.fc1), bias: b(names.fc1) }, {
      M,
      K: C,
      N: I,
    }),
    await activationForward(gpu, { out: a.act, inp: a.fc1 }, { kind: d.act }),
    ...await matmulForward(gpu, { out: a.fc2, inp: a.act, weight: w(names.fc2), bias: b(names.fc2) }, {
      M,
      K: I,
      N: C,
    }),
    await dropoutForward(gpu, { out: a.fc2Drop, inp: a.fc2, rng: inp.rng }, {
      p: d.pHidden,
      layer: d.layer,
      slot: 2,
    }),
    await residualForward(gpu, { out: a.res2, inp1: a.fc2Drop, inp2: a.ln1 }),
    await layernormForward(gpu, {
      out: a.out,
      mean: a.mean2,
      rstd: a.rstd2,
      inp: a.res2,
      weight: w(names.ln2),
      bias: b(names.ln2),
    }, { rows: M, C, eps: d.eps }),
  ];
}

/** Scratch tensors of the backward, shared by all layers (views for one batch shape). */
export interface LayerGradScratch {
  dC1: Tensor;
  dC2: Tensor;
  dI1: Tensor;
  dI2: Tensor;
  dqkv: Tensor;
  lnScratch: Tensor;
  attnScratch: Tensor;
}

/** What the backward computes: parameter gradients (training) or only activation gradients (attribution). */
export interface LayerBackwardOptions {
  paramGrads: boolean;
  /** Where dLoss/dA of this layer goes (B, NH, T, T), or null. */
  dprobs: Tensor | null;
  /** Whether dx (the gradient w.r.t. the layer's input) is needed (false for the lowest attribution layer). */
  needDx: boolean;
}

/**
 * Backward of layer `l`: from dout = dLoss/d(acts.out) to dx = dLoss/dx (written). Parameter gradients
 * accumulate (+=) into the store's gradient arena, or go to `sink` (a scratch arena) when not wanted.
 */
export async function layerBackward(
  gpu: Gpu,
  store: ParamStore,
  names: ReturnType<typeof layerParamNames>,
  x: Tensor,
  a: LayerActivations,
  inp: LayerInputs,
  g: { dout: Tensor; dx: Tensor; s: LayerGradScratch; lnSink: { dweight: Tensor; dbias: Tensor } },
  d: LayerDims & { B: number; T: number; layer: number },
  o: LayerBackwardOptions,
): Promise<Dispatch[]> {
  const { B, T, C, NH, I } = d;
  const M = B * T;
  const s = g.s;
  const w = (n: string) => store.param(`${n}.weight`);
  const dw = (n: string) => (o.paramGrads ? store.grad(`${n}.weight`) : null);
  const db = (n: string) => (o.paramGrads ? store.grad(`${n}.bias`) : null);
  const lnGrads = (n: string) =>
    o.paramGrads ? { dweight: store.grad(`${n}.weight`), dbias: store.grad(`${n}.bias`) } : g.lnSink;
  const attn = { B, T, C, NH, pDrop: d.pAttn, layer: d.layer };
  const list: Dispatch[] = [];
  // out = LN2(r2): dr2 -> s.dC1
  list.push(
    ...await layernormBackward(gpu, {
      dinp: s.dC1,
      ...lnGrads(names.ln2),
      scratch: s.lnScratch,
      dout: g.dout,
      inp: a.res2,
      weight: w(names.ln2),
      mean: a.mean2,
      rstd: a.rstd2,
    }, { rows: M, C }),
  );
  // r2 = drop(fc2) + h1: dfc2 -> s.dC2; dh1 starts as dr2 (s.dC1) and gains the fc1 path below.
  list.push(
    await dropoutBackward(gpu, { dinp: s.dC2, dout: s.dC1, rng: inp.rng }, {
      p: d.pHidden,
      layer: d.layer,
      slot: 2,
    }),
  );
  list.push(
    ...await matmulBackward(gpu, {
      dinp: s.dI1,
      dweight: dw(names.fc2),
      dbias: db(names.fc2),
      dout: s.dC2,
      inp: a.act,
      weight: w(names.fc2),
    }, { M, K: I, N: C }),
  );
  list.push(await activationBackward(gpu, { dinp: s.dI2, dout: s.dI1, inp: a.fc1 }, { kind: d.act }));
  list.push(
    ...await matmulBackward(gpu, {
      dinp: s.dC1,
      dweight: dw(names.fc1),
      dbias: db(names.fc1),
      dout: s.dI2,
      inp: a.ln1,
      weight: w(names.fc1),
    }, { M, K: C, N: I, accumulateInput: true }),
  );
  // h1 = LN1(r1): dr1 -> g.dx (the residual path to x), then the attention path adds to it.
  list.push(
    ...await layernormBackward(gpu, {
      dinp: g.dx,
      ...lnGrads(names.ln1),
      scratch: s.lnScratch,
      dout: s.dC1,
      inp: a.res1,
      weight: w(names.ln1),
      mean: a.mean1,
      rstd: a.rstd1,
    }, { rows: M, C }),
  );
  list.push(
    await dropoutBackward(gpu, { dinp: s.dC2, dout: g.dx, rng: inp.rng }, {
      p: d.pHidden,
      layer: d.layer,
      slot: 1,
    }),
  );
  list.push(
    ...await matmulBackward(gpu, {
      dinp: s.dC1,
      dweight: dw(names.attnOut),
      dbias: db(names.attnOut),
      dout: s.dC2,
      inp: a.ctx,
      weight: w(names.attnOut),
    }, { M, K: C, N: C }),
  );
  list.push(
    ...await attentionBackward(
      gpu,
      {
        dqkv: s.dqkv,
        dprobs: o.dprobs,
        dout: s.dC1,
        qkv: a.qkv,
        probs: a.probs,
        keyMask: inp.keyMask,
        addMask: inp.addMask,
        alpha: inp.alpha,
        rng: inp.rng,
        scratch: s.attnScratch,
      },
      attn,
      { dprobsOnly: !o.paramGrads && !o.needDx && o.dprobs !== null },
    ),
  );
  if (o.paramGrads || o.needDx) {
    list.push(
      ...await matmulBackward(gpu, {
        dinp: o.needDx ? g.dx : null,
        dweight: dw(names.qkv),
        dbias: db(names.qkv),
        dout: s.dqkv,
        inp: x,
        weight: w(names.qkv),
      }, { M, K: C, N: 3 * C, accumulateInput: true }),
    );
  }
  return list;
}
