/**
 * CPU reference of in-place scaling.
 *
 * @module
 */

/** `x *= s` in f32 (in place). */
export function scale(x: Float32Array, s: number): void {
  const f = Math.fround(s);
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i] * f);
}
