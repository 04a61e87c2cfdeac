/**
 * The mask stage of AD-DROP, on the GPU: per (example, head, query row), over the real keys, the threshold at
 * sorted[floor((1 - p) n)] (or the lowest-p region with `low` selection), the candidates at or above it, each
 * dropped with probability q from the run's seeded generator; or, for the `random` baseline, every real key
 * dropped with probability p*q. The result is an additive mask the selected layers add to their scores.
 *
 * @module
 */
import type { Dispatch } from "../gpu/encoder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { addropMask, addropRandomMask } from "../kernels/addrop_mask.ts";
import { type SelectMode, selectRank } from "../kernels/select.ts";
import type { Encoder } from "../model/encoder.ts";

/** Per-layer tensors of the mask stage (views for one shape). */
export interface MaskTensors {
  scores: Tensor | null;
  thr: Tensor;
  mask: Tensor;
}

/** Dispatches writing `t.mask` of layer `layer` for a B x T batch. */
export async function buildMask(
  enc: Encoder,
  B: number,
  T: number,
  layer: number,
  t: MaskTensors,
  o: { p: number; q: number; selection: SelectMode; random: boolean },
): Promise<Dispatch[]> {
  const { gpu, cfg } = enc;
  const NH = cfg.numHeads;
  const lengths = enc.inputs.lengths.view([B]);
  const rng = enc.inputs.rng;
  if (o.random) {
    return addropRandomMask(gpu, { mask: t.mask, lengths, rng }, { B, NH, T, p: o.p, q: o.q, layer });
  }
  if (!t.scores) throw new Error("buildMask: scores are required unless the method is random");
  return [
    ...await selectRank(gpu, { thr: t.thr, scores: t.scores, lengths }, {
      R: B * NH * T,
      L: T,
      rowsPerExample: NH * T,
      p: o.p,
      mode: o.selection,
    }),
    ...await addropMask(gpu, { mask: t.mask, scores: t.scores, thr: t.thr, lengths, rng }, {
      B,
      NH,
      T,
      q: o.q,
      mode: o.selection,
      layer,
    }),
  ];
}
