/**
 * CPU reference of hidden dropout with the counter-based generator of `./random.ts`: the specification
 * `src/kernels/dropout.ts` is tested against (bit-exact: the mask, the f32 scale and the f32 products).
 *
 * @module
 */
import { Purpose, randUniform, streamId } from "./random.ts";
import type { Vec } from "./layernorm.ts";

/** Which stream a dropout draws from: the rng buffer's `[seed, step]` plus the layer, purpose and slot. */
export interface DropoutOptions {
  /** Drop probability in [0, 1]. */
  p: number;
  layer: number;
  /** Distinguishes the dropouts of one layer (e.g. 0 after attention, 1 after the FFN). */
  slot: number;
  /** Defaults to `Purpose.hiddenDropout` (0). */
  purpose?: number;
}

/** The f32 factor kept values are multiplied by: `1 / (1 - p)`, 0 when p = 1. */
export function dropoutScale(p: number): number {
  return p < 1 ? Math.fround(1 / (1 - p)) : 0;
}

/** The keep mask of `n` elements (1 = kept): `randUniform(seed, stream, i) >= f32(p)`. */
export function dropoutMask(rng: { seed: number; step: number }, o: DropoutOptions, n: number): Uint8Array {
  const stream = streamId(rng.step, o.layer, o.purpose ?? Purpose.hiddenDropout, o.slot);
  const p = Math.fround(o.p);
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) keep[i] = randUniform(rng.seed, stream, i) >= p ? 1 : 0;
  return keep;
}

/** `out = keep ? inp * scale : 0` in f32 arithmetic. */
export function dropoutForward(
  inp: ArrayLike<number>,
  rng: { seed: number; step: number },
  o: DropoutOptions,
): Float32Array {
  const keep = dropoutMask(rng, o, inp.length);
  const scale = dropoutScale(o.p);
  const out = new Float32Array(inp.length);
  for (let i = 0; i < out.length; i++) out[i] = keep[i] ? Math.fround(inp[i] * scale) : 0;
  return out;
}

/** `dinp = keep ? dout * scale : 0` (or `+=` with `accumulate`), in place, the mask regenerated. */
export function dropoutBackward(
  dinp: Vec,
  dout: ArrayLike<number>,
  rng: { seed: number; step: number },
  o: DropoutOptions & { accumulate?: boolean },
): void {
  const keep = dropoutMask(rng, o, dout.length);
  const scale = dropoutScale(o.p);
  for (let i = 0; i < dinp.length; i++) {
    const v = keep[i] ? Math.fround(dout[i] * scale) : 0;
    dinp[i] = o.accumulate ? dinp[i] + v : v;
  }
}
