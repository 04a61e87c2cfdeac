/**
 * The optimizer stage: global gradient norm and clipping coefficient, then AdamW over the decay and no-decay
 * regions of the parameter arena, all on the GPU; the loop rewrites the small `hyper` buffer each step.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor, writeTensor } from "../gpu/tensor.ts";
import { ADAMW_HYPER_SIZE, adamwHyper, adamwUpdate } from "../kernels/adamw.ts";
import { gradNorm, gradNormPartialCount } from "../kernels/grad_norm.ts";
import type { ParamStore } from "../model/param_store.ts";

/** AdamW settings (torch.optim.AdamW names). */
export interface AdamwSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Gradient clipping norm; 0 turns clipping off. */
  maxGradNorm: number;
}

/** AdamW settings of the training options: torch's betas (0.9, 0.999) and the run's eps, decay and clipping. */
export function adamwSettings(
  o: { adamEpsilon: number; weightDecay: number; maxGradNorm: number },
): AdamwSettings {
  return {
    beta1: 0.9,
    beta2: 0.999,
    eps: o.adamEpsilon,
    weightDecay: o.weightDecay,
    maxGradNorm: o.maxGradNorm,
  };
}

/** The optimizer's GPU state and its prepared step. */
export class Optimizer {
  private constructor(
    readonly gpu: Gpu,
    readonly settings: AdamwSettings,
    readonly hyper: Tensor,
    /** Global gradient norm of the last step (before clipping), for the log. */
    readonly norm: Tensor,
    readonly clip: Tensor,
    readonly partials: Tensor,
    /** Gradient norm, clipping coefficient and AdamW over every parameter, in order. */
    readonly step: Dispatch[],
  ) {}

  static async create(gpu: Gpu, store: ParamStore, settings: AdamwSettings): Promise<Optimizer> {
    const hyper = await createTensor(gpu, [ADAMW_HYPER_SIZE], "f32", { label: "adamw hyper" });
    const norm = await createTensor(gpu, [1], "f32", { label: "grad norm" });
    const clip = await createTensor(gpu, [1], "f32", { label: "clip coef" });
    const partials = await createTensor(gpu, [gradNormPartialCount(gpu, [store.grads])], "f32", {
      label: "grad norm partials",
    });
    const list = await gradNorm(gpu, { norm, clipCoef: clip, partials, grads: [store.grads] }, {
      maxNorm: settings.maxGradNorm > 0 ? settings.maxGradNorm : Infinity,
    });
    const p = store.regions(store.params);
    const g = store.regions(store.grads);
    const m = store.regions(store.m);
    const v = store.regions(store.v);
    for (const key of ["decay", "noDecay"] as const) {
      if (!p[key]) continue;
      list.push(
        ...await adamwUpdate(gpu, { param: p[key]!, m: m[key]!, v: v[key]!, grad: g[key]!, hyper, clip }, {
          weightDecay: key === "decay",
        }),
      );
    }
    return new Optimizer(gpu, settings, hyper, norm, clip, partials, list);
  }

  /** Writes the per-step scalars of optimizer step `step` (1-based) at learning rate `lr`. */
  setStep(step: number, lr: number): void {
    const s = this.settings;
    writeTensor(
      this.gpu,
      this.hyper,
      adamwHyper({ lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, step }),
    );
  }

  destroy(): void {
    for (const t of [this.hyper, this.norm, this.clip, this.partials]) t.destroy();
    for (const d of this.step) d.destroy();
  }
}
