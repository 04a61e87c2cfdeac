/**
 * The counter-based random generator shared by every kernel that draws (dropout, attention dropout, AD-DROP's
 * Bernoulli mask, the random-attribution baseline). A draw is a pure function of (seed, stream, index): the
 * same seed gives the same masks run to run, independent of dispatch order and workgroup size.
 *
 * The WGSL side is this exact code, copied into each shader that draws (WGSL has no includes):
 *
 * ```wgsl
 * fn pcg_hash(v: u32) -> u32 {
 *   let s = v * 747796405u + 2891336453u;
 *   let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
 *   return (w >> 22u) ^ w;
 * }
 * // Uniform in [0, 1) with 24 bits: element `i` of stream `stream` under `seed`.
 * fn rand_uniform(seed: u32, stream: u32, i: u32) -> f32 {
 *   return f32(pcg_hash(i ^ pcg_hash(stream ^ pcg_hash(seed))) >> 8u) * (1.0 / 16777216.0);
 * }
 * // Stream of (step, layer, purpose, slot); equals streamId() below.
 * fn stream_id(step: u32, layer: u32, purpose: u32, slot: u32) -> u32 {
 *   return pcg_hash(pcg_hash(step) ^ ((layer + 1u) * 0x9e3779b1u) ^ (purpose << 24u) ^ slot);
 * }
 * ```
 *
 * Convention of the drawing kernels: they bind `rng: array<u32>` (read-only storage) holding `[seed, step]`, one
 * small buffer per model that the training loop rewrites once per step (so prepared dispatches are replayed
 * unchanged), and take `layer`, `purpose` and `slot` as uniform parameters. An element is dropped when
 * `rand_uniform(seed, stream_id(step, layer, purpose, slot), i) < p` and kept otherwise (kept values are scaled
 * by 1 / (1 - p) in dropout).
 *
 * @module
 */

/** PCG hash (O'Neill's RXS-M-XS output on one LCG step), a bijection on u32. */
export function pcgHash(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** Uniform in [0, 1) with 24 bits: element `i` of `stream` under `seed` (bit-identical to the WGSL). */
export function randUniform(seed: number, stream: number, i: number): number {
  const h = pcgHash((i ^ pcgHash((stream ^ pcgHash(seed)) >>> 0)) >>> 0);
  return (h >>> 8) * (1 / 16777216);
}

/** Purposes of random streams; each (step, layer, purpose) gets its own stream. */
export const Purpose = {
  hiddenDropout: 0,
  attentionDropout: 1,
  addropMask: 2,
  randomAttribution: 3,
  mlmMask: 4,
  init: 5,
} as const;

/**
 * Stream id of a (step, layer, purpose, slot) tuple, hashed so streams of neighbouring steps are unrelated.
 * `slot` distinguishes several draws of one purpose in one layer (e.g. the two hidden dropouts of a layer).
 */
export function streamId(step: number, layer: number, purpose: number, slot = 0): number {
  return pcgHash((pcgHash(step >>> 0) ^ Math.imul(layer + 1, 0x9e3779b1) ^ (purpose << 24) ^ slot) >>> 0);
}
