/**
 * Integrated gradients (AD-DROP's `ig`) for a Marian model's encoder self-attention, all on the GPU. For each
 * selected encoder layer l:
 *
 *   scores_l = A_l * (1/m) * sum_{k=1..m} dF(k/m * A_l) / d(k/m * A_l)
 *
 * with a zero baseline, the probabilities of all heads of layer l scaled together (the attention kernels'
 * per-example `alpha`), and F = -CE against the clean pass's argmax at every target position that has a label,
 * those pseudo-labels fixed along the path. The k = m term is the clean pass itself: its activation-only
 * backward gives it for every selected layer at once. For k < m the model runs again from encoder layer l up
 * (its Q, K, V projection and everything below are the clean pass's and unchanged by the scaling), with layer
 * l scaled and the same dropout streams (so the same masks as the clean pass in training), then the backward
 * down to l. Layers are processed from the top down, so that the layers below l still hold the clean pass, and
 * each one's sum is multiplied by its probabilities right after its own passes, while they are still the clean
 * pass's.
 *
 * @module
 */
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import { crossEntropyForward } from "../kernels/loss.ts";
import { pseudoLabelIdsSplit } from "../kernels/pseudo_label.ts";
import { scaleSplit } from "../kernels/scale.ts";
import type { MarianModel, MarianProgram } from "../model/marian.ts";
import { createIgScratch, igLayerLoop, type IgScaledPass, type IgScratch, igSteps } from "./ig_layers.ts";

/** Scratch of the integrated-gradients stage, allocated once for the model's largest batch. */
export interface MarianIgBuffers extends IgScratch {
  /** (maxB * maxT) i32: the clean pass's argmax at each labelled position, -100 elsewhere. */
  pseudo: Tensor;
}

/** Allocates {@linkcode MarianIgBuffers} for `m`. */
export async function createMarianIgBuffers(m: MarianModel): Promise<MarianIgBuffers> {
  const { maxBatch: B, maxLength: T } = m.options;
  return {
    ...await createIgScratch(m.gpu, B, m.cfg.encoderHeads, T),
    pseudo: await createTensor(m.gpu, [B * T], "i32", { label: "ig pseudo-labels" }),
  };
}

/** Frees {@linkcode MarianIgBuffers}. */
export function destroyMarianIgBuffers(b: MarianIgBuffers): void {
  for (const t of Object.values(b)) t.destroy();
}

/**
 * The dispatches that, after `clean.encoderForward` and `clean.decoderForward` (the clean pass; `clean` built
 * with `attribution: { dlogits, dprobs: scores }`), leave every selected layer's integrated-gradients scores in
 * `scores.get(layer)` (B, NH, T, T). `dlogits` (B*T, V) is scratch for the start gradient; `key` names this
 * caller's programs in the model's cache (they bind its buffers). Every activation is overwritten.
 */
export async function buildMarianIntegratedGradients(
  m: MarianModel,
  clean: MarianProgram,
  layers: readonly number[],
  scores: ReadonlyMap<number, Tensor>,
  dlogits: Tensor,
  buf: MarianIgBuffers,
  o: { steps: number; mode: "train" | "eval"; key: string },
): Promise<Dispatch[]> {
  const { gpu } = m;
  const { B, T } = clean;
  const N = B * T;
  igSteps(o.steps);
  const { ids, start } = await marianPseudoLabelStart(m, clean.logits, dlogits, buf.pseudo.view([N]));
  const list: Dispatch[] = [...ids];
  // k = m (alpha = 1): the clean pass, every selected layer at once.
  list.push(...start, ...clean.attributionBackward);
  // For k < m the model runs again from encoder layer l up with layer l scaled (alpha scales its probabilities
  // after the softmax, layers below are unscaled, so A_l stays the clean pass's for the final multiply).
  const scaledPass: IgScaledPass = async (l, alpha, d) => {
    const scaled = await m.program(B, T, o.mode, {
      attribution: { dlogits, dprobs: new Map([[l, d]]) },
      alpha: { layer: l, tensor: alpha },
      encoderFrom: l,
    }, `${o.key}:ig${l}`);
    return [...scaled.encoderForward, ...scaled.decoderForward, ...start, ...scaled.attributionBackward];
  };
  list.push(
    ...await igLayerLoop(gpu, buf, layers, scores, o.steps, (l) => clean.encLayers[l].probs, scaledPass),
  );
  return list;
}

/**
 * The start of a Marian attribution backward from the clean pass's `logits` (N, V): `ids` writes F's labels into
 * `pseudo` (N, i32), the clean pass's argmax at each labelled target position (-100 elsewhere), once after the
 * clean forward; `start` writes dF/dlogits = -dCE/dlogits against them (the mean over the labelled positions)
 * into `dlogits` after each forward. Logits above the binding limit are processed in row blocks.
 */
export async function marianPseudoLabelStart(
  m: MarianModel,
  logits: Tensor,
  dlogits: Tensor,
  pseudo: Tensor,
): Promise<{ ids: Dispatch[]; start: Dispatch[] }> {
  const { gpu } = m;
  const N = pseudo.size;
  const V = m.cfg.vocabSize;
  const targets = m.inputs.targets.view([N]);
  return {
    ids: await pseudoLabelIdsSplit(gpu, { labels: pseudo, logits, targets }, { rows: N, L: V }),
    start: [
      ...await crossEntropyForward(gpu, {
        loss: m.acts.loss,
        losses: m.acts.losses.view([N]),
        dlogits,
        logits,
        targets: pseudo,
      }, { N, V }),
      ...await scaleSplit(gpu, { x: dlogits }, { s: -1 }),
    ],
  };
}
