/**
 * Integrated gradients (AD-DROP's `ig`) inside the training step, all on the GPU. For each selected layer l:
 *
 *   scores_l = A_l * (1/m) * sum_{k=1..m} dF(k/m * A_l) / d(k/m * A_l)
 *
 * with a zero baseline, the probabilities of all heads of layer l scaled together (the attention kernels'
 * per-example `alpha`), F fixed by the clean pass: the one-hot of its argmax (sequence classification, written
 * once), -CE against its argmax labels (token classification) or -(squared error) with the gold label per example
 * (regression).
 *
 * Cost: the k = m term is the clean pass itself (alpha = 1, same dropout streams): one activation-only backward
 * after the clean forward gives it for every selected layer at once. For k < m only layers >= l are recomputed
 * (the layers below are identical for every scale; so are layer l's Q, K, V, whose projection is skipped), and
 * the backward stops at l without parameter gradients. Layers are processed from the top down so that each
 * one's input is still the clean pass's. The scaled evaluations are looped over the upper layers with B rows
 * each rather than run as one batch of m*B rows: the same arithmetic, no m-fold activation memory, and the
 * dropout masks of every scaled pass are exactly the clean pass's (a larger batch would draw new ones).
 * The k steps differ only in a one-element-per-example fill of `alpha`, so the layer lists are prepared once.
 *
 * @module
 */
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import { crossEntropyForward, mseForward } from "../kernels/loss.ts";
import { pseudoLabelGrad, pseudoLabelIds } from "../kernels/pseudo_label.ts";
import { scale } from "../kernels/scale.ts";
import type { Encoder } from "../model/encoder.ts";
import { buildAttributionBackward, buildForwardFrom, type Mode, type Program } from "../model/program.ts";
import { createIgScratch, igLayerLoop, type IgScaledPass, type IgScratch, igSteps } from "./ig_layers.ts";

/** Scratch of the integrated-gradients stage, allocated once for the encoder's largest batch. */
export interface IgBuffers extends IgScratch {
  /** (maxB * maxT) i32 argmax labels of the clean pass (token classification), else null. */
  pseudo: Tensor | null;
}

/** Allocates {@linkcode IgBuffers} for `enc`. */
export async function createIgBuffers(enc: Encoder): Promise<IgBuffers> {
  const { gpu, cfg } = enc;
  const { maxBatch: B, maxLength: T } = enc.options;
  return {
    ...await createIgScratch(gpu, B, cfg.numHeads, T),
    pseudo: cfg.head === "token_classification"
      ? await createTensor(gpu, [B * T], "i32", { label: "ig pseudo-labels" })
      : null,
  };
}

/** Frees {@linkcode IgBuffers}. */
export function destroyIgBuffers(b: IgBuffers): void {
  for (const t of [b.alpha, b.ones, b.dprobs, b.pseudo]) t?.destroy();
}

/**
 * The dispatches that write -dCE/dlogits against fixed labels `pseudo` (rows, i32; -100 ignored, the mean over
 * the rest) into `dlogits` (rows, L) after a forward of `prog`: token classification's start gradient.
 */
export async function negativeCrossEntropy(
  enc: Encoder,
  prog: Program,
  dlogits: Tensor,
  pseudo: Tensor,
): Promise<Dispatch[]> {
  const rows = enc.rows(prog.B, prog.T);
  return [
    ...await crossEntropyForward(enc.gpu, {
      loss: enc.grads.loss,
      losses: enc.grads.losses.view([rows]),
      dlogits,
      logits: prog.logits,
      targets: pseudo,
    }, { N: rows, V: enc.cfg.numLabels }),
    await scale(enc.gpu, { x: dlogits }, { s: -1 }),
  ];
}

/** Options of {@linkcode buildIntegratedGradients}. */
export interface IgOptions {
  /** Number of scaled evaluations m (>= 1). */
  steps: number;
  /** Dropout of the scaled passes: `train` (the clean pass's masks) or `eval` (none). */
  mode: Mode;
}

/**
 * The dispatches that, after `prog.forward` (the clean pass), leave every selected layer's integrated-gradients
 * scores in `scores.get(layer)` (B, NH, T, T). `dlogits` (rows, L) is scratch for the start gradient. The
 * activations of every layer >= min(layers) and of the head are overwritten (the masked pass recomputes them).
 */
export async function buildIntegratedGradients(
  enc: Encoder,
  prog: Program,
  layers: readonly number[],
  scores: ReadonlyMap<number, Tensor>,
  dlogits: Tensor,
  buf: IgBuffers,
  o: IgOptions,
): Promise<Dispatch[]> {
  const { gpu, cfg } = enc;
  const { B, T } = prog;
  igSteps(o.steps);
  const rows = enc.rows(B, T);
  const targets = enc.inputs.targets.view([rows]);
  const list: Dispatch[] = [];
  // The start gradient: what is fixed by the clean pass is computed once, here.
  const perStep: Dispatch[] = [];
  if (cfg.head === "regression") {
    const d = dlogits.view([B]);
    perStep.push(
      await mseForward(gpu, {
        loss: enc.grads.loss,
        dpred: d,
        pred: prog.logits.view([B]),
        target: enc.inputs.targetsF.view([B]),
      }, { N: B }),
      // -d(sum of per-example MSE): the mean's gradient times B, so an example's scores do not depend on
      // the batch it is in (as attribute()'s B = 1 scores).
      await scale(gpu, { x: d }, { s: -B }),
    );
  } else if (cfg.head === "token_classification") {
    const pseudo = buf.pseudo!.view([rows]);
    list.push(
      await pseudoLabelIds(gpu, { labels: pseudo, logits: prog.logits, targets }, { rows, L: cfg.numLabels }),
    );
    perStep.push(...await negativeCrossEntropy(enc, prog, dlogits, pseudo));
  } else {
    list.push(
      await pseudoLabelGrad(gpu, { dlogits, logits: prog.logits, targets }, {
        rows,
        L: cfg.numLabels,
        mode: "onehot",
      }),
    );
  }
  // k = m (alpha = 1) is the clean pass itself: one activation-only backward gives that term for every layer.
  const lowest = Math.min(...layers);
  const scaledPass: IgScaledPass = async (l, alpha, d) => {
    const po = { mode: o.mode, alpha: { layer: l, tensor: alpha } };
    return [
      ...await buildForwardFrom(enc, prog, l, { ...po, reuseQkv: true }),
      ...perStep,
      ...await buildAttributionBackward(enc, prog, dlogits, l, new Map([[l, d]]), po),
    ];
  };
  list.push(
    ...perStep,
    ...await buildAttributionBackward(enc, prog, dlogits, lowest, scores, { mode: o.mode }),
    ...await igLayerLoop(gpu, buf, layers, scores, o.steps, (l) => prog.layers[l].probs, scaledPass),
  );
  return list;
}
