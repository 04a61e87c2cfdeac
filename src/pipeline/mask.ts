/**
 * The mask stage of AD-DROP, on the GPU: per (example, head, query row), over the real keys, the threshold at
 * sorted[floor((1 - p) n)] (or the lowest-p region with `low` selection), the candidates at or above it, each
 * dropped with probability q from the run's seeded generator; or, for the `random` baseline, every real key
 * dropped with probability p*q. The result is an additive mask the selected layers add to their scores.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
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

/** Dispatches writing `t.mask` of layer `layer` for a B x T batch of `enc`. */
export function buildMask(
  enc: Encoder,
  B: number,
  T: number,
  layer: number,
  t: MaskTensors,
  o: { p: number; q: number; selection: SelectMode; random: boolean },
): Promise<Dispatch[]> {
  const src = { gpu: enc.gpu, NH: enc.cfg.numHeads, lengths: enc.inputs.lengths, rng: enc.inputs.rng };
  return buildMaskFor(src, B, T, layer, t, o);
}

/**
 * {@linkcode buildMask} for any attention stack: `NH` heads, `lengths` (u32, one per example: its real keys
 * come first), `rng` the step's `[seed, step]`.
 */
export async function buildMaskFor(
  src: { gpu: Gpu; NH: number; lengths: Tensor; rng: Tensor },
  B: number,
  T: number,
  layer: number,
  t: MaskTensors,
  o: { p: number; q: number; selection: SelectMode; random: boolean },
): Promise<Dispatch[]> {
  const { gpu, NH, rng } = src;
  const lengths = src.lengths.view([B]);
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
