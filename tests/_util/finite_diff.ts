/**
 * Finite-difference checks of the CPU backward references against their own forward.
 *
 * @module
 */
import { AssertionError } from "node:assert/strict";

/** Options of {@linkcode assertGradient}. */
export interface GradientOptions {
  /** Step of the central difference. */
  h?: number;
  atol?: number;
  rtol?: number;
  /** Name of the checked gradient, for the failure message. */
  name?: string;
}

/**
 * Throws unless `grad[i]` matches the central difference `(L(x + h e_i) - L(x - h e_i)) / 2h` of the scalar
 * `loss` at every index of `x` (f64 throughout). `x` is restored afterwards.
 */
export function assertGradient(
  loss: (x: Float64Array) => number,
  x: Float64Array,
  grad: ArrayLike<number>,
  { h = 1e-5, atol = 1e-6, rtol = 1e-5, name = "gradient" }: GradientOptions = {},
): void {
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    x[i] = x0 + h;
    const up = loss(x);
    x[i] = x0 - h;
    const down = loss(x);
    x[i] = x0;
    const fd = (up - down) / (2 * h);
    if (!(Math.abs(fd - grad[i]) <= atol + rtol * Math.abs(fd))) {
      throw new AssertionError({
        message: `${name}[${i}]: analytic ${grad[i]}, finite difference ${fd} (atol ${atol}, rtol ${rtol})`,
      });
    }
  }
}

/** `sum(a[i] * b[i])`: the scalar loss `L = <out, g>` whose gradient w.r.t. `out` is `g`. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Float64 copy of random values (the references' f64 inputs). */
export function f64(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs);
}
