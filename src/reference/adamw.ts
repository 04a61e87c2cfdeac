/**
 * CPU reference of AdamW in double precision, following torch.optim.AdamW's single-tensor step formula by
 * formula: the specification `src/kernels/adamw.ts` is tested against.
 *
 * @module
 */

/** Hyper-parameters of one step, as in `adamwHyper`. */
export interface AdamwStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number. */
  step: number;
  /** Whether this tensor gets weight decay. */
  decay: boolean;
  /** Gradient-clipping coefficient (1 for none). */
  clipCoef: number;
}

/**
 * One AdamW step in place on `param`, `m`, `v` (f64):
 * `g = grad * clip; p *= 1 - lr*wd; m = lerp(m, g, 1 - b1); v = v*b2 + (1 - b2)*g*g;
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
 */
export function adamwUpdate(
  t: { param: Float64Array; m: Float64Array; v: Float64Array; grad: ArrayLike<number> },
  s: AdamwStep,
): void {
  const bc1 = 1 - s.beta1 ** s.step;
  const bc2Sqrt = Math.sqrt(1 - s.beta2 ** s.step);
  const stepSize = s.lr / bc1;
  for (let i = 0; i < t.param.length; i++) {
    const g = t.grad[i] * s.clipCoef;
    let p = t.param[i];
    if (s.decay) p *= 1 - s.lr * s.weightDecay;
    const m = s.beta1 * t.m[i] + (1 - s.beta1) * g;
    const v = s.beta2 * t.v[i] + (1 - s.beta2) * g * g;
    p -= stepSize * m / (Math.sqrt(v) / bc2Sqrt + s.eps);
    t.param[i] = p;
    t.m[i] = m;
    t.v[i] = v;
  }
}
