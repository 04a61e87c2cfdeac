/**
 * CPU reference of `shaders/accumulate.wgsl` (float32 rounding after each operation, as the shader does).
 *
 * @module
 */

/** `set`: out = s * x; `add`: out += s * x; `multiply`: out = s * out * x. */
export type AccumulateMode = "set" | "add" | "multiply";

/** Updates `out` in place from `x`; see {@linkcode AccumulateMode}. */
export function accumulate(
  out: Float32Array,
  x: Float32Array,
  o: { mode: AccumulateMode; s?: number },
): void {
  const s = Math.fround(o.s ?? 1);
  const f = Math.fround;
  for (let i = 0; i < out.length; i++) {
    if (o.mode === "set") out[i] = f(s * x[i]);
    else if (o.mode === "add") out[i] = f(out[i] + f(s * x[i]));
    else out[i] = f(f(s * out[i]) * x[i]);
  }
}
