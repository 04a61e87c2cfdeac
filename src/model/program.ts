/**
 * Programs: for one batch shape (B, T) the flat call lists of the forward, the loss and the backward, prepared
 * once and replayed every step of that shape. The backward is the forward's exact reverse.
 *
 * @module
 */
import type { Dispatch } from "../gpu/encoder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { dropoutBackward, dropoutForward } from "../kernels/dropout.ts";
import { embeddingBackward, embeddingForward } from "../kernels/embedding.ts";
import { bucketsLength } from "../kernels/embedding_ids.ts";
import { layernormBackward, layernormForward, layernormScratchShape } from "../kernels/layernorm.ts";
import { crossEntropyForward, mseForward } from "../kernels/loss.ts";
import { matmulBackward, matmulForward } from "../kernels/matmul.ts";
import type { Encoder } from "./encoder.ts";
import { headBackward, headForward } from "./head.ts";
import { mlmBackward, type MlmDims, mlmForward, mlmLoss, mlmViews } from "./mlm_head.ts";
import {
  type LayerActivations,
  layerBackward,
  type LayerBackwardOptions,
  layerForward,
  type LayerGradScratch,
  type LayerInputs,
  layerViews,
} from "./layer.ts";

/** What a program is for: training (dropout on) or evaluation (dropout off). */
export type Mode = "train" | "eval";

/** Per-layer extras: AD-DROP masks, IG scales, attention-probability gradients. */
export interface ProgramOptions {
  mode: Mode;
  /** AD-DROP additive masks per layer index (B, NH, T, T). */
  addMasks?: ReadonlyMap<number, Tensor>;
  /** Integrated gradients' per-example scale of layer `alphaLayer`'s probabilities. */
  alpha?: { layer: number; tensor: Tensor };
}

/**
 * The activation-only backward of AD-DROP's attribution: from `dlogits` (the pseudo-label gradient) through the
 * head and down to layer `lowest`, writing dLoss/dA of each layer in `dprobs`; no parameter gradients, nothing
 * below `lowest`. Replays after the program's forward of the same shape.
 */
export function buildAttributionBackward(
  enc: Encoder,
  prog: Program,
  dlogits: Tensor,
  lowest: number,
  dprobs: ReadonlyMap<number, Tensor>,
  o: ProgramOptions,
): Promise<Dispatch[]> {
  const { B, T } = prog;
  const train = o.mode === "train";
  const pHidden = train ? enc.options.hiddenDropout : 0;
  const pCls = train ? enc.options.classifierDropout : 0;
  return buildBackward(enc, B, T, o, {
    dlogits,
    paramGrads: false,
    lowest,
    dprobs,
    layers: prog.layers,
    emb: prog.emb,
    x0: prog.x0,
    inp: inputViews(enc, B, T),
    pHidden,
    pCls,
  });
}

/**
 * The forward of layers `from`.. and the head, from the input of layer `from` that `prog`'s forward left in
 * place (integrated gradients' scaled passes: the layers below `from` are the same for every scale). Dropout as
 * `o.mode` says, with the same random streams as `prog` (same masks for the same `rng`); `o.alpha` scales the
 * probabilities of its layer; `o.reuseQkv` skips layer `from`'s Q, K, V projection (valid while its `qkv`
 * activation is that of the current input). Overwrites the activations of layers >= `from` and of the head.
 */
export async function buildForwardFrom(
  enc: Encoder,
  prog: Program,
  from: number,
  o: ProgramOptions & { reuseQkv?: boolean },
): Promise<Dispatch[]> {
  const { gpu, store, cfg } = enc;
  const { B, T } = prog;
  if (!(Number.isInteger(from) && from >= 0 && from < cfg.numLayers)) {
    throw new RangeError(`buildForwardFrom: layer ${from} is not in 0..${cfg.numLayers - 1}`);
  }
  const train = o.mode === "train";
  const inp = inputViews(enc, B, T);
  const dims = {
    ...enc.layerDims,
    pHidden: train ? enc.options.hiddenDropout : 0,
    pAttn: train ? enc.options.attentionDropout : 0,
    B,
    T,
  };
  const list: Dispatch[] = [];
  for (let l = from; l < cfg.numLayers; l++) {
    const x = l === 0 ? prog.x0 : prog.layers[l - 1].out;
    const inputs: LayerInputs = {
      keyMask: inp.keyMask,
      rng: inp.rng,
      addMask: o.addMasks?.get(l) ?? null,
      alpha: o.alpha?.layer === l ? o.alpha.tensor : null,
    };
    // With `reuseQkv`, layer `from`'s qkv activation still holds the projection of the same input: its Q, K,
    // V projection is left out.
    list.push(
      ...await layerForward(gpu, store, enc.names[l], x, prog.layers[l], inputs, {
        ...dims,
        layer: l,
        skipQkv: l === from && o.reuseQkv,
      }),
    );
  }
  const hd = enc.headDims(B, T, train ? enc.options.classifierDropout : 0);
  list.push(
    ...await headForward(gpu, store, prog.layers[cfg.numLayers - 1].out, enc.headViews(B, T), inp.rng, hd),
  );
  return list;
}

/** The prepared call lists of one batch shape. */
export interface Program {
  B: number;
  T: number;
  forward: Dispatch[];
  loss: Dispatch[];
  backward: Dispatch[];
  /** (rows, L) logits of this shape. */
  logits: Tensor;
  /** The mean loss (1). */
  lossValue: Tensor;
  /** dLoss/dlogits (rows, L): the loss writes it; attribution passes may overwrite it. */
  dlogits: Tensor;
  /** Per-layer views of the activations (probs included). */
  layers: LayerActivations[];
  /** Embedding activations and the first layer's input. */
  emb: BackwardSpec["emb"];
  x0: Tensor;
}

/** Input tensors viewed for B x T. */
function inputViews(enc: Encoder, B: number, T: number) {
  const N = B * T;
  const i = enc.inputs;
  return {
    ids: i.ids.view([N]),
    posIds: i.posIds.view([N]),
    typeIds: i.typeIds.view([N]),
    keyMask: i.keyMask.view([B, T]),
    wteBuckets: i.wteBuckets.view([bucketsLength(N)]),
    wpeBuckets: i.wpeBuckets.view([bucketsLength(N)]),
    wttBuckets: i.wttBuckets.view([bucketsLength(N)]),
    targets: i.targets.view([enc.rows(B, T)]),
    targetsF: i.targetsF.view([B]),
    lengths: i.lengths.view([B]),
    rng: i.rng,
  };
}

/** Names of the embedding parameters. */
function embNames(prefix: string) {
  const e = `${prefix}.embeddings.`;
  return {
    wte: `${e}word_embeddings.weight`,
    wpe: `${e}position_embeddings.weight`,
    wtt: `${e}token_type_embeddings.weight`,
    ln: `${e}LayerNorm`,
    proj: `${prefix}.embeddings_project`,
  };
}

/** Builds the program of shape B x T (forward, loss, full training backward). */
export async function buildProgram(enc: Encoder, B: number, T: number, o: ProgramOptions): Promise<Program> {
  const { gpu, store, cfg } = enc;
  const train = o.mode === "train";
  const C = cfg.hiddenSize;
  const E = cfg.embeddingSize;
  const N = B * T;
  const inp = inputViews(enc, B, T);
  const pHidden = train ? enc.options.hiddenDropout : 0;
  const pAttn = train ? enc.options.attentionDropout : 0;
  const pCls = train ? enc.options.classifierDropout : 0;
  const dims = { ...enc.layerDims, pHidden, pAttn, B, T };
  const layers = enc.layers.map((a) => layerViews(a, enc.layerDims, B, T));
  const names = embNames(enc.prefix);
  const e = enc.emb;
  const emb = {
    sum: e.sum.view([N, E]),
    ln: e.ln.view([N, E]),
    mean: e.mean.view([N]),
    rstd: e.rstd.view([N]),
    drop: e.drop.view([N, E]),
    proj: e.proj?.view([N, C]) ?? null,
  };
  const x0 = emb.proj ?? emb.drop;
  const embDrop = { p: pHidden, layer: cfg.numLayers + 1, slot: 0 };

  const forward: Dispatch[] = [
    ...await embeddingForward(gpu, {
      out: emb.sum,
      ids: inp.ids,
      posIds: inp.posIds,
      typeIds: inp.typeIds,
      wte: store.param(names.wte),
      wpe: store.param(names.wpe),
      wtt: store.param(names.wtt),
    }, { N, C: E }),
    await layernormForward(gpu, {
      out: emb.ln,
      mean: emb.mean,
      rstd: emb.rstd,
      inp: emb.sum,
      weight: store.param(`${names.ln}.weight`),
      bias: store.param(`${names.ln}.bias`),
    }, { rows: N, C: E, eps: cfg.layerNormEps }),
    await dropoutForward(gpu, { out: emb.drop, inp: emb.ln, rng: inp.rng }, embDrop),
  ];
  if (emb.proj) {
    forward.push(
      ...await matmulForward(gpu, {
        out: emb.proj,
        inp: emb.drop,
        weight: store.param(`${names.proj}.weight`),
        bias: store.param(`${names.proj}.bias`),
      }, { M: N, K: E, N: C }),
    );
  }
  const layerInputs = (l: number): LayerInputs => ({
    keyMask: inp.keyMask,
    rng: inp.rng,
    addMask: o.addMasks?.get(l) ?? null,
    alpha: o.alpha?.layer === l ? o.alpha.tensor : null,
  });
  for (let l = 0; l < cfg.numLayers; l++) {
    const x = l === 0 ? x0 : layers[l - 1].out;
    forward.push(
      ...await layerForward(gpu, store, enc.names[l], x, layers[l], layerInputs(l), { ...dims, layer: l }),
    );
  }
  const last = cfg.numLayers > 0 ? layers[cfg.numLayers - 1].out : x0;
  const spec = { paramGrads: true, lowest: 0, dprobs: new Map(), layers, emb, x0, inp, pHidden, pCls };
  if (enc.mlm) {
    // Masked-language-model head: logits and loss over the masked positions only.
    const m = mlmViews(enc.mlm, C, cfg.vocabSize, B, T);
    forward.push(...await mlmForward(gpu, store, last, m, mlmDims(enc, B, T)));
    const loss = await mlmLoss(gpu, m, mlmDims(enc, B, T));
    const backward = await buildBackward(enc, B, T, o, { ...spec, dlogits: m.dlogits });
    return {
      B,
      T,
      forward,
      loss,
      backward,
      logits: m.logits,
      lossValue: m.loss,
      dlogits: m.dlogits,
      layers,
      emb,
      x0,
    };
  }
  const hd = enc.headDims(B, T, pCls);
  const head = enc.headViews(B, T);
  forward.push(...await headForward(gpu, store, last, head, inp.rng, hd));

  const rows = enc.rows(B, T);
  const g = enc.grads;
  const dlogits = g.dlogits.view([rows, cfg.numLabels]);
  const loss: Dispatch[] = cfg.head === "regression"
    ? [
      await mseForward(gpu, {
        loss: g.loss,
        dpred: dlogits.view([B]),
        pred: head.logits.view([B]),
        target: inp.targetsF,
      }, { N: B }),
    ]
    : await crossEntropyForward(gpu, {
      loss: g.loss,
      losses: g.losses.view([rows]),
      dlogits,
      logits: head.logits,
      targets: inp.targets,
    }, { N: rows, V: cfg.numLabels });

  const backward = await buildBackward(enc, B, T, o, { ...spec, dlogits });
  return { B, T, forward, loss, backward, logits: head.logits, lossValue: g.loss, dlogits, layers, emb, x0 };
}

/** Dims of the masked-language-model head for a batch shape. */
function mlmDims(enc: Encoder, B: number, T: number): MlmDims {
  const c = enc.cfg;
  return {
    B,
    T,
    C: c.hiddenSize,
    V: c.vocabSize,
    eps: c.layerNormEps,
    act: enc.layerDims.act,
    prefix: enc.prefix,
  };
}

/** What a backward pass computes and where it stops. */
interface BackwardSpec {
  dlogits: Tensor;
  paramGrads: boolean;
  /** Lowest layer to reach; 0 with parameter gradients continues into the embeddings. */
  lowest: number;
  /** Layers whose dLoss/dA is wanted, and where it goes. */
  dprobs: ReadonlyMap<number, Tensor>;
  layers: LayerActivations[];
  emb: { sum: Tensor; ln: Tensor; mean: Tensor; rstd: Tensor; drop: Tensor; proj: Tensor | null };
  x0: Tensor;
  inp: ReturnType<typeof inputViews>;
  pHidden: number;
  pCls: number;
}

/** The backward call list: head, layers from the top down to `lowest`, then (training) the embeddings. */
async function buildBackward(
  enc: Encoder,
  B: number,
  T: number,
  o: ProgramOptions,
  s: BackwardSpec,
): Promise<Dispatch[]> {
  const { gpu, store, cfg } = enc;
  const C = cfg.hiddenSize;
  const E = cfg.embeddingSize;
  const N = B * T;
  const g = enc.grads;
  const v = (t: Tensor, n: number) => t.view([N, n]);
  const scratch: LayerGradScratch = {
    dC1: v(g.dC1, C),
    dC2: v(g.dC2, C),
    dI1: v(g.dI1, cfg.intermediateSize),
    dI2: v(g.dI2, cfg.intermediateSize),
    dqkv: v(g.dqkv, 3 * C),
    lnScratch: g.lnScratch.view(layernormScratchShape({ rows: N, C })),
    attnScratch: g.attnScratch.view([2, B, cfg.numHeads, T, T]),
  };
  const dx = [v(g.dxA, C), v(g.dxB, C)];
  const list: Dispatch[] = [];
  const last = cfg.numLayers - 1;
  const top = cfg.numLayers > 0 ? s.layers[last].out : s.x0;
  void top;
  if (enc.mlm) {
    if (!s.paramGrads) throw new Error("the masked_lm head has no attribution backward");
    const m = mlmViews(enc.mlm, C, cfg.vocabSize, B, T);
    list.push(...await mlmBackward(gpu, store, m, { dlogits: s.dlogits, dx: dx[0] }, mlmDims(enc, B, T)));
  } else {
    list.push(
      ...await headBackward(
        gpu,
        store,
        enc.headViews(B, T),
        s.inp.rng,
        { dlogits: s.dlogits, dx: dx[0] },
        enc.headDims(B, T, s.pCls),
        s.paramGrads,
      ),
    );
  }
  const dims = {
    ...enc.layerDims,
    pHidden: s.pHidden,
    pAttn: o.mode === "train" ? enc.options.attentionDropout : 0,
    B,
    T,
  };
  let cur = 0;
  for (let l = last; l >= s.lowest; l--) {
    const x = l === 0 ? s.x0 : s.layers[l - 1].out;
    const opts: LayerBackwardOptions = {
      paramGrads: s.paramGrads,
      dprobs: s.dprobs.get(l) ?? null,
      needDx: s.paramGrads || l > s.lowest,
    };
    const inputs: LayerInputs = {
      keyMask: s.inp.keyMask,
      rng: s.inp.rng,
      addMask: o.addMasks?.get(l) ?? null,
      alpha: o.alpha?.layer === l ? o.alpha.tensor : null,
    };
    list.push(
      ...await layerBackward(
        gpu,
        store,
        enc.names[l],
        x,
        s.layers[l],
        inputs,
        {
          dout: dx[cur],
          dx: dx[1 - cur],
          s: scratch,
          lnSink: { dweight: g.lnSinkW.view([C]), dbias: g.lnSinkB.view([C]) },
        },
        { ...dims, layer: l },
        opts,
      ),
    );
    cur = 1 - cur;
  }
  if (!s.paramGrads || s.lowest > 0) return list;
  // Embeddings: [project] <- dropout <- LayerNorm <- gather.
  const names = embNames(enc.prefix);
  let dDrop = dx[cur];
  if (s.emb.proj) {
    dDrop = g.dEmb.view([N, E]);
    list.push(
      ...await matmulBackward(gpu, {
        dinp: dDrop,
        dweight: store.grad(`${names.proj}.weight`),
        dbias: store.grad(`${names.proj}.bias`),
        dout: dx[cur],
        inp: s.emb.drop,
        weight: store.param(`${names.proj}.weight`),
      }, { M: N, K: E, N: C }),
    );
  }
  const dLn = g.dEmbLn.view([N, E]);
  list.push(
    await dropoutBackward(gpu, { dinp: dLn, dout: dDrop, rng: s.inp.rng }, {
      p: s.pHidden,
      layer: cfg.numLayers + 1,
      slot: 0,
    }),
  );
  const dSum = s.emb.proj ? dx[1 - cur].view([N * C]).view([N * E]) : g.dEmb.view([N, E]);
  list.push(
    ...await layernormBackward(gpu, {
      dinp: dSum,
      dweight: store.grad(`${names.ln}.weight`),
      dbias: store.grad(`${names.ln}.bias`),
      scratch: g.lnScratch.view(layernormScratchShape({ rows: N, C: E })),
      dout: dLn,
      inp: s.emb.sum,
      weight: store.param(`${names.ln}.weight`),
      mean: s.emb.mean,
      rstd: s.emb.rstd,
    }, { rows: N, C: E }),
    ...await embeddingBackward(gpu, {
      dwte: store.grad(names.wte),
      dwpe: store.grad(names.wpe),
      dwtt: store.grad(names.wtt),
      dout: dSum,
      wteBuckets: s.inp.wteBuckets,
      wpeBuckets: s.inp.wpeBuckets,
      wttBuckets: s.inp.wttBuckets,
    }, { N, C: E }),
  );
  return list;
}
