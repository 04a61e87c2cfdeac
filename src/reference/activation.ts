/**
 * CPU references of the activations (exact GELU, HF `gelu_new` tanh GELU, tanh, ReLU, SiLU) and of a
 * high-precision `erf`: the specification `src/kernels/activation.ts` is tested against. f64 throughout.
 *
 * @module
 */
import type { Vec } from "./layernorm.ts";

/**
 * Activation functions of the encoders: `gelu` (exact, erf), `gelu_new` (tanh approximation), tanh, relu, and
 * `silu` = x sigmoid(x) (HF `swish`).
 */
export type Activation = "gelu" | "gelu_new" | "tanh" | "relu" | "silu";

/**
 * `erf(x)` to f64 precision: the everywhere-convergent series `2/sqrt(pi) e^{-x^2} sum 2^n x^{2n+1} / (2n+1)!!`
 * (positive terms, no cancellation) for |x| < 6, +-1 beyond (1 - erf(6) < 3e-17).
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  let term = a;
  let sum = a;
  for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** `1 / (1 + e^-x)`: exp overflows to Infinity for x < -709, which gives 0, never NaN. */
function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** f(x) of an activation. */
export function activate(kind: Activation, x: number): number {
  switch (kind) {
    case "gelu":
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case "gelu_new":
      return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)));
    case "tanh":
      return Math.tanh(x);
    case "relu":
      return x > 0 ? x : 0;
    case "silu":
      return x * sigmoid(x);
  }
}

/** f'(x) of an activation (ReLU: 0 at 0). */
export function activateGrad(kind: Activation, x: number): number {
  switch (kind) {
    case "gelu":
      return 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    case "gelu_new": {
      const u = SQRT_2_OVER_PI * (x + 0.044715 * x ** 3);
      const th = Math.tanh(u);
      return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
    }
    case "tanh":
      return 1 - Math.tanh(x) ** 2;
    case "relu":
      return x > 0 ? 1 : 0;
    case "silu":
      // s + x s (1 - s) with 1 - s = sigmoid(-x): no cancellation in 1 - s for large x.
      return sigmoid(x) * (1 + x * sigmoid(-x));
  }
}

/** `out = f(inp)` elementwise. */
export function activationForward(kind: Activation, inp: ArrayLike<number>): Float64Array {
  const out = new Float64Array(inp.length);
  for (let i = 0; i < out.length; i++) out[i] = activate(kind, inp[i]);
  return out;
}

/** `dinp = dout * f'(inp)` (or `+=` with `accumulate`), in place. */
export function activationBackward(
  kind: Activation,
  dinp: Vec,
  t: { dout: ArrayLike<number>; inp: ArrayLike<number> },
  accumulate = false,
): void {
  for (let i = 0; i < dinp.length; i++) {
    const v = t.dout[i] * activateGrad(kind, t.inp[i]);
    dinp[i] = accumulate ? dinp[i] + v : v;
  }
}
