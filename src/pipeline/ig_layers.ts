/**
 * The layer loop shared by the two integrated-gradients stages (AD-DROP's `ig`: encoders in attribute_ig.ts,
 * Marian's encoder in marian_ig.ts). For each selected layer l, from the top down:
 *
 *   scores_l += sum_{k=1..m-1} dF(k/m * A_l) / d(k/m * A_l),  then  scores_l = A_l * scores_l / m
 *
 * where `scores_l` already holds the k = m term (the clean pass's activation-only backward, which gives it for
 * every layer at once) and each scaled evaluation is the caller's dispatches with `alpha` = k/m. Layers run from
 * the top down so that each one's probabilities are still the clean pass's when they are multiplied in.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import { accumulate, accumulateSplit } from "../kernels/accumulate.ts";

/** Scratch of an integrated-gradients stage, allocated once for the largest batch. */
export interface IgScratch {
  /** (maxB) the scale of the current step, k/m for every example. */
  alpha: Tensor;
  /** (maxB) ones, the source `alpha` is filled from. */
  ones: Tensor;
  /** (maxB * NH * maxT * maxT) dF/d(scaled A) of one step. */
  dprobs: Tensor;
}

/** Allocates {@linkcode IgScratch} for batches of up to `B` examples of `T` tokens and `NH` heads. */
export async function createIgScratch(gpu: Gpu, B: number, NH: number, T: number): Promise<IgScratch> {
  return {
    alpha: await createTensor(gpu, [B], "f32", { label: "ig alpha" }),
    ones: await createTensor(gpu, [B], "f32", { label: "ig ones", data: new Float32Array(B).fill(1) }),
    dprobs: await createTensor(gpu, [B * NH * T * T], "f32", { label: "ig dprobs" }),
  };
}

/** The number of scaled evaluations m, checked (an integer >= 1). */
export function igSteps(m: number): number {
  if (!(Number.isInteger(m) && m >= 1)) {
    throw new RangeError(`integrated gradients: steps = ${m}, expected >= 1`);
  }
  return m;
}

/**
 * One scaled evaluation of layer l: a forward with `alpha` (B) on layer l, the start gradient, and the backward
 * down to l writing dF/d(scaled A) into `dprobs` (B, NH, T, T). Built once per layer and run m - 1 times.
 */
export type IgScaledPass = (l: number, alpha: Tensor, dprobs: Tensor) => Promise<Dispatch[]>;

/**
 * The dispatches of the loop above for `layers` (duplicates allowed) and m = `steps`, run after the caller's
 * k = m term: `scores` holds each layer's (B, NH, T, T) scores, `probs(l)` is layer l's clean probabilities.
 */
export async function igLayerLoop(
  gpu: Gpu,
  scratch: IgScratch,
  layers: readonly number[],
  scores: ReadonlyMap<number, Tensor>,
  steps: number,
  probs: (l: number) => Tensor,
  scaledPass: IgScaledPass,
): Promise<Dispatch[]> {
  const m = igSteps(steps);
  const list: Dispatch[] = [];
  for (const l of [...new Set(layers)].sort((a, b) => b - a)) {
    const out = scores.get(l);
    if (!out) throw new Error(`integrated gradients: no scores tensor for layer ${l}`);
    if (m > 1) {
      const B = out.shape[0];
      const alpha = scratch.alpha.view([B]);
      const ones = scratch.ones.view([B]);
      const dprobs = scratch.dprobs.view(out.shape);
      const pass = await scaledPass(l, alpha, dprobs);
      const add = await accumulateSplit(gpu, { out, x: dprobs }, { mode: "add" });
      for (let k = 1; k < m; k++) {
        list.push(await accumulate(gpu, { out: alpha, x: ones }, { mode: "set", s: k / m }), ...pass, ...add);
      }
    }
    list.push(...await accumulateSplit(gpu, { out, x: probs(l) }, { mode: "multiply", s: 1 / m }));
  }
  return list;
}
