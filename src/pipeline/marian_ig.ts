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
import { pseudoLabelIds } from "../kernels/pseudo_label.ts";
import { scale } from "../kernels/scale.ts";
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
  const V = m.cfg.vocabSize;
  igSteps(o.steps);
  const pseudo = buf.pseudo.view([N]);
  // F's labels: the clean pass's argmax where the batch has a label (-100 elsewhere), fixed for every step.
  const list: Dispatch[] = [
    await pseudoLabelIds(gpu, { labels: pseudo, logits: clean.logits, targets: m.inputs.targets.view([N]) }, {
      rows: N,
      L: V,
    }),
  ];
  // dF/dlogits = -dCE/dlogits against them (mean over the labelled positions), after each forward.
  const start = [
    ...await crossEntropyForward(gpu, {
      loss: m.acts.loss,
      losses: m.acts.losses.view([N]),
      dlogits,
      logits: clean.logits,
      targets: pseudo,
    }, { N, V }),
    await scale(gpu, { x: dlogits }, { s: -1 }),
  ];
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
