/**
 * Task heads on the encoder's last hidden states, as in Hugging Face transformers:
 *   BERT sequence classification / regression: logits = W_c dropout(tanh(W_p x[:, 0] + b_p)) + b_c
 *   RoBERTa: logits = W_o dropout(tanh(W_d dropout(x[:, 0]) + b_d)) + b_o
 *   ELECTRA: logits = W_o dropout(gelu(W_d dropout(x[:, 0]) + b_d)) + b_o
 *   token classification (all three): logits[b, t] = W_c dropout(x[b, t]) + b_c
 * Forward and backward as flat call lists; the backward writes dLoss/dx for every token.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import { activationBackward, activationForward } from "../kernels/activation.ts";
import { dropoutBackward, dropoutForward } from "../kernels/dropout.ts";
import { firstTokenBackward, firstTokenForward } from "../kernels/first_token.ts";
import { matmulBackward, matmulForward } from "../kernels/matmul.ts";
import type { ModelConfig } from "./config.ts";
import type { ParamStore } from "./param_store.ts";

/** Which head: BERT's pooler + classifier, RoBERTa/ELECTRA's two-layer head, or per-token. */
export type HeadStyle = "bert" | "roberta" | "electra" | "token";

/** The head style of a config. */
export function headStyle(cfg: ModelConfig): HeadStyle {
  if (cfg.head === "token_classification") return "token";
  if (cfg.head !== "sequence_classification" && cfg.head !== "regression") {
    throw new Error(`no classification head for head kind '${cfg.head}'`);
  }
  return cfg.modelType;
}

/** Activations of the head for the largest batch. */
export interface HeadActivations {
  first: Tensor;
  drop0: Tensor;
  dense: Tensor;
  act: Tensor;
  drop1: Tensor;
  logits: Tensor;
  /** Backward scratch: gradients of the (B, C) intermediates. */
  d1: Tensor;
  d2: Tensor;
}

/** Allocates the head's activations; `rows` is B for sequence heads and B*T for token heads. */
export async function allocateHead(
  gpu: Gpu,
  C: number,
  L: number,
  maxRows: number,
): Promise<HeadActivations> {
  const a = (label: string, n: number) => createTensor(gpu, [n], "f32", { label: `head ${label}` });
  return {
    first: await a("first", maxRows * C),
    drop0: await a("drop0", maxRows * C),
    dense: await a("dense", maxRows * C),
    act: await a("act", maxRows * C),
    drop1: await a("drop1", maxRows * C),
    logits: await a("logits", maxRows * L),
    d1: await a("d1", maxRows * C),
    d2: await a("d2", maxRows * C),
  };
}

/** Views for a batch of `rows` rows. */
export function headViews(h: HeadActivations, C: number, L: number, rows: number): HeadActivations {
  const v = (t: Tensor, n: number) => t.view([rows, n]);
  return {
    first: v(h.first, C),
    drop0: v(h.drop0, C),
    dense: v(h.dense, C),
    act: v(h.act, C),
    drop1: v(h.drop1, C),
    logits: v(h.logits, L),
    d1: v(h.d1, C),
    d2: v(h.d2, C),
  };
}

/** Shapes and options of one head call. */
export interface HeadDims {
  style: HeadStyle;
  B: number;
  T: number;
  C: number;
  L: number;
  pDrop: number;
  /** Dropout stream layer index of the head (past the encoder layers). */
  layer: number;
}

function names(style: HeadStyle) {
  return style === "bert"
    ? { dense: "bert.pooler.dense", out: "classifier" }
    : style === "token"
    ? { dense: "", out: "classifier" }
    : { dense: "classifier.dense", out: "classifier.out_proj" };
}

/** Forward: x (B, T, C) -> logits (B, L) or (B*T, L). */
export async function headForward(
  gpu: Gpu,
  store: ParamStore,
  x: Tensor,
  h: HeadActivations,
  rng: Tensor,
  d: HeadDims,
): Promise<Dispatch[]> {
  const { B, T, C, L, style } = d;
  const n = names(style);
  const w = (s: string) => store.param(`${s}.weight`);
  const b = (s: string) => store.param(`${s}.bias`);
  const drop = (out: Tensor, inp: Tensor, slot: number) =>
    dropoutForward(gpu, { out, inp, rng }, { p: d.pDrop, layer: d.layer, slot });
  if (style === "token") {
    const xs = x.view([B * T, C]);
    return [
      await drop(h.drop1, xs, 1),
      ...await matmulForward(gpu, { out: h.logits, inp: h.drop1, weight: w(n.out), bias: b(n.out) }, {
        M: B * T,
        K: C,
        N: L,
      }),
    ];
  }
  const list: Dispatch[] = [await firstTokenForward(gpu, { out: h.first, inp: x }, { B, T, C })];
  // BERT's pooler reads the first token directly; RoBERTa and ELECTRA drop it out first.
  const denseIn = style === "bert" ? h.first : h.drop0;
  if (style !== "bert") list.push(await drop(h.drop0, h.first, 0));
  list.push(
    ...await matmulForward(gpu, { out: h.dense, inp: denseIn, weight: w(n.dense), bias: b(n.dense) }, {
      M: B,
      K: C,
      N: C,
    }),
    await activationForward(gpu, { out: h.act, inp: h.dense }, {
      kind: style === "electra" ? "gelu" : "tanh",
    }),
    await drop(h.drop1, h.act, 1),
    ...await matmulForward(gpu, { out: h.logits, inp: h.drop1, weight: w(n.out), bias: b(n.out) }, {
      M: B,
      K: C,
      N: L,
    }),
  );
  return list;
}

/**
 * Backward: dlogits -> dx (B, T, C), written for every token. Parameter gradients accumulate into the store
 * unless `paramGrads` is false (attribution passes).
 */
export async function headBackward(
  gpu: Gpu,
  store: ParamStore,
  h: HeadActivations,
  rng: Tensor,
  g: { dlogits: Tensor; dx: Tensor },
  d: HeadDims,
  paramGrads: boolean,
): Promise<Dispatch[]> {
  const { B, T, C, L, style } = d;
  const n = names(style);
  const w = (s: string) => store.param(`${s}.weight`);
  const dw = (s: string) => (paramGrads ? store.grad(`${s}.weight`) : null);
  const db = (s: string) => (paramGrads ? store.grad(`${s}.bias`) : null);
  const dropBack = (dinp: Tensor, dout: Tensor, slot: number) =>
    dropoutBackward(gpu, { dinp, dout, rng }, { p: d.pDrop, layer: d.layer, slot });
  if (style === "token") {
    const M = B * T;
    const dxs = g.dx.view([M, C]);
    return [
      ...await matmulBackward(gpu, {
        dinp: h.d1.view([M, C]),
        dweight: dw(n.out),
        dbias: db(n.out),
        dout: g.dlogits,
        inp: h.drop1,
        weight: w(n.out),
      }, { M, K: C, N: L }),
      await dropBack(dxs, h.d1.view([M, C]), 1),
    ];
  }
  const denseIn = style === "bert" ? h.first : h.drop0;
  const list: Dispatch[] = [
    ...await matmulBackward(gpu, {
      dinp: h.d1,
      dweight: dw(n.out),
      dbias: db(n.out),
      dout: g.dlogits,
      inp: h.drop1,
      weight: w(n.out),
    }, { M: B, K: C, N: L }),
    await dropBack(h.d2, h.d1, 1),
    await activationBackward(gpu, { dinp: h.d1, dout: h.d2, inp: h.dense }, {
      kind: style === "electra" ? "gelu" : "tanh",
    }),
    ...await matmulBackward(gpu, {
      dinp: h.d2,
      dweight: dw(n.dense),
      dbias: db(n.dense),
      dout: h.d1,
      inp: denseIn,
      weight: w(n.dense),
    }, { M: B, K: C, N: C }),
  ];
  let dfirst = h.d2;
  if (style !== "bert") {
    list.push(await dropBack(h.d1, h.d2, 0));
    dfirst = h.d1;
  }
  list.push(await firstTokenBackward(gpu, { dinp: g.dx, dout: dfirst }, { B, T, C }));
  return list;
}
