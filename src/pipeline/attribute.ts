/**
 * The attribute stage of AD-DROP: after the clean forward, a score for every self-attention position of each
 * selected layer, all on the GPU:
 *   grad:      dF/dA from one activation-only backward (F = the pseudo-label logit; -loss for token
 *              classification with argmax labels and for regression with the gold label)
 *   attention: A itself (no backward)
 *   random:    no scores (the mask stage drops each real position with probability p*q)
 * (`ig` batches its scaled evaluations and is built in `attribute_ig.ts`.)
 *
 * @module
 */
import type { Dispatch } from "../gpu/encoder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { mseForward } from "../kernels/loss.ts";
import { pseudoLabelGrad } from "../kernels/pseudo_label.ts";
import { scale } from "../kernels/scale.ts";
import type { Encoder } from "../model/encoder.ts";
import { buildAttributionBackward, type Program } from "../model/program.ts";

/** Attribution methods. */
export type AttributionMethod = "grad" | "ig" | "attention" | "random";

/**
 * The dispatches that, after `prog.forward` of the clean pass, leave each selected layer's scores in
 * `scores.get(layer)` (B, NH, T, T). For `attention` the scores are the probabilities themselves (the map's
 * tensors are the layers' `probs` views; nothing is dispatched). `random` needs no scores.
 */
export async function buildAttribution(
  enc: Encoder,
  prog: Program,
  method: Exclude<AttributionMethod, "ig">,
  layers: readonly number[],
  scores: ReadonlyMap<number, Tensor>,
  dlogits: Tensor,
): Promise<Dispatch[]> {
  if (method !== "grad") return [];
  const { gpu, cfg } = enc;
  const { B, T } = prog;
  const rows = enc.rows(B, T);
  const list: Dispatch[] = [];
  if (cfg.head === "regression") {
    // -dLoss/dpred with the gold label: MSE's gradient, negated.
    const d = dlogits.view([B]);
    list.push(
      await mseForward(gpu, {
        loss: enc.grads.loss,
        dpred: d,
        pred: prog.logits.view([B]),
        target: enc.inputs.targetsF.view([B]),
      }, {
        N: B,
      }),
      await scale(gpu, { x: d }, { s: -1 }),
    );
  } else {
    list.push(
      await pseudoLabelGrad(gpu, { dlogits, logits: prog.logits, targets: enc.inputs.targets.view([rows]) }, {
        rows,
        L: cfg.numLabels,
        mode: cfg.head === "token_classification" ? "negative_ce" : "onehot",
      }),
    );
  }
  const lowest = Math.min(...layers);
  list.push(...await buildAttributionBackward(enc, prog, dlogits, lowest, scores, { mode: "train" }));
  return list;
}
