/**
 * CPU reference of AD-DROP's masks: the specification `src/kernels/addrop_mask.ts` is tested against.
 *
 * @module
 */
import { Purpose, randUniform, streamId } from "./random.ts";

/** Mask value of a dropped position (as the kernel's). */
export const ADDROP_DROP = -1e9;

/** Attention shape and the `[seed, step]` of the rng buffer. */
export interface MaskDims {
  B: number;
  NH: number;
  T: number;
  layer: number;
  seed: number;
  step: number;
}

function fill(
  d: MaskDims,
  lengths: ArrayLike<number>,
  purpose: number,
  drop: (e: number, u: () => number) => boolean,
) {
  const { B, NH, T } = d;
  const mask = new Float32Array(B * NH * T * T);
  const stream = streamId(d.step, d.layer, purpose);
  for (let b = 0; b < B; b++) {
    const len = Math.min(lengths[b], T);
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < len; i++) {
        for (let j = 0; j < len; j++) {
          const e = ((b * NH + h) * T + i) * T + j;
          if (drop(e, () => randUniform(d.seed, stream, e))) mask[e] = ADDROP_DROP;
        }
      }
    }
  }
  return mask;
}

/** Candidate = score >= thr (high) / <= thr (low) on real rows and keys; dropped when its draw is < q. */
export function addropMask(
  scores: ArrayLike<number>,
  thr: ArrayLike<number>,
  lengths: ArrayLike<number>,
  o: MaskDims & { q: number; mode: "high" | "low" },
): Float32Array {
  const q = Math.fround(o.q);
  return fill(o, lengths, Purpose.addropMask, (e, u) => {
    const s = scores[e];
    const t = thr[Math.floor(e / o.T)];
    return (o.mode === "high" ? s >= t : s <= t) && u() < q;
  });
}

/** Every real position dropped when its draw is < fround(p * q). */
export function addropRandomMask(
  lengths: ArrayLike<number>,
  o: MaskDims & { p: number; q: number },
): Float32Array {
  const prob = Math.fround(o.p * o.q);
  return fill(o, lengths, Purpose.randomAttribution, (_e, u) => u() < prob);
}
