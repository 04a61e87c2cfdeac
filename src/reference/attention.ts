/**
 * CPU reference of self-attention (Hugging Face BERT eager attention, fused QKV input): the specification
 * `src/kernels/attention.ts` is tested against. Plain loops in f64.
 *
 * Semantics (see `src/kernels/attention.ts` for the full statement): scores = Q K^T / sqrt(hs) + keyMask +
 * addMask; a key whose total additive mask is <= {@linkcode MASKED} (-1e30, e.g. f32 min) gets exactly zero
 * weight, and a row with no unmasked key gets probabilities all 0; A = softmax; P' = alpha * A * keep / (1 - p);
 * out = P' V with heads merged. Backward: dprobs = dLoss/d(alpha * A), dA = alpha * dprobs,
 * dS = A * (dA - sum(dA * A)).
 *
 * @module
 */
import type { AttentionDims } from "../kernels/attention.ts";
import { Purpose, randUniform, streamId } from "./random.ts";

/** Total additive masks at or below this value mean "masked": exactly zero attention weight. */
export const MASKED = -1e30;

/** The `[seed, step]` contents of the rng buffer. */
export interface RngState {
  seed: number;
  step: number;
}

type Arr = ArrayLike<number>;

/** Keep flags (1 keep, 0 drop) of attention dropout for every (b, h, i, j), as the kernels draw them. */
export function dropoutKeep(rng: RngState, d: AttentionDims): Uint8Array {
  const n = d.B * d.NH * d.T * d.T;
  const keep = new Uint8Array(n);
  const stream = streamId(rng.step, d.layer, Purpose.attentionDropout, d.slot ?? 0);
  for (let e = 0; e < n; e++) keep[e] = randUniform(rng.seed, stream, e) >= d.pDrop ? 1 : 0;
  return keep;
}

/** A = softmax(Q K^T / sqrt(hs) + keyMask + addMask) per (b, h, i) row, masked keys at exactly 0. */
export function attentionProbs(qkv: Arr, keyMask: Arr, addMask: Arr | null, d: AttentionDims): Float64Array {
  const { B, T, C, NH } = d;
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const probs = new Float64Array(B * NH * T * T);
  const s = new Float64Array(T);
  const ok = new Uint8Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const row = ((b * NH + h) * T + i) * T;
        const q = (b * T + i) * 3 * C + h * hs;
        let mx = -Infinity;
        for (let j = 0; j < T; j++) {
          const k = (b * T + j) * 3 * C + C + h * hs;
          let dot = 0;
          for (let x = 0; x < hs; x++) dot += qkv[q + x] * qkv[k + x];
          const m = keyMask[b * T + j] + (addMask ? addMask[row + j] : 0);
          ok[j] = m > MASKED ? 1 : 0;
          s[j] = dot * scale + m;
          if (ok[j] && s[j] > mx) mx = s[j];
        }
        let sum = 0;
        for (let j = 0; j < T; j++) if (ok[j]) sum += Math.exp(s[j] - mx);
        for (let j = 0; j < T; j++) probs[row + j] = ok[j] ? Math.exp(s[j] - mx) / sum : 0;
      }
    }
  }
  return probs;
}

/** out (B, T, C) = P' V with P' = scaled (B, NH, T, T) probabilities times keep / (1 - pDrop). */
export function attentionApply(scaled: Arr, qkv: Arr, keep: Uint8Array, d: AttentionDims): Float64Array {
  const { B, T, C, NH } = d;
  const hs = C / NH;
  const inv = 1 / (1 - d.pDrop);
  const out = new Float64Array(B * T * C);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const row = ((b * NH + h) * T + i) * T;
        for (let j = 0; j < T; j++) {
          const w = keep[row + j] ? scaled[row + j] * inv : 0;
          if (w === 0) continue;
          const v = (b * T + j) * 3 * C + 2 * C + h * hs;
          const o = (b * T + i) * C + h * hs;
          for (let x = 0; x < hs; x++) out[o + x] += w * qkv[v + x];
        }
      }
    }
  }
  return out;
}

/** Multiplies each example's (NH, T, T) probabilities by alpha[b] (a copy; alpha null = 1). */
export function scaleProbs(probs: Arr, alpha: Arr | null, d: AttentionDims): Float64Array {
  const per = d.NH * d.T * d.T;
  return Float64Array.from(probs, (v, e) => v * (alpha ? alpha[Math.floor(e / per)] : 1));
}

/** Forward: `{out (B, T, C), probs (B, NH, T, T)}` (probs = A, before alpha and dropout). */
export function attentionForward(
  qkv: Arr,
  keyMask: Arr,
  addMask: Arr | null,
  alpha: Arr | null,
  rng: RngState,
  d: AttentionDims,
): { out: Float64Array; probs: Float64Array } {
  const probs = attentionProbs(qkv, keyMask, addMask, d);
  const out = attentionApply(scaleProbs(probs, alpha, d), qkv, dropoutKeep(rng, d), d);
  return { out, probs };
}

/**
 * Backward from dout (B, T, C): `dqkv (B, T, 3C)` and `dprobs (B, NH, T, T)` = dLoss/d(alpha * A), the gradient
 * with respect to the scaled pre-dropout probabilities (dLoss/dA when alpha is null).
 */
export function attentionBackward(
  dout: Arr,
  qkv: Arr,
  probs: Arr,
  alpha: Arr | null,
  rng: RngState,
  d: AttentionDims,
): { dqkv: Float64Array; dprobs: Float64Array } {
  const { B, T, C, NH } = d;
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const inv = 1 / (1 - d.pDrop);
  const keep = dropoutKeep(rng, d);
  const dqkv = new Float64Array(B * T * 3 * C);
  const dprobs = new Float64Array(B * NH * T * T);
  const dS = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    const al = alpha ? alpha[b] : 1;
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const row = ((b * NH + h) * T + i) * T;
        const o = (b * T + i) * C + h * hs;
        let dot = 0;
        for (let j = 0; j < T; j++) {
          const v = (b * T + j) * 3 * C + 2 * C + h * hs;
          let g = 0;
          for (let x = 0; x < hs; x++) g += dout[o + x] * qkv[v + x];
          const w = keep[row + j] ? inv : 0;
          dprobs[row + j] = g * w;
          dot += al * g * w * probs[row + j];
          // dV[j] += P'[i, j] * dout[i]
          const pw = al * probs[row + j] * w;
          for (let x = 0; x < hs; x++) dqkv[v + x] += pw * dout[o + x];
        }
        for (let j = 0; j < T; j++) dS[j] = probs[row + j] * (al * dprobs[row + j] - dot) * scale;
        const q = (b * T + i) * 3 * C + h * hs;
        for (let j = 0; j < T; j++) {
          const k = (b * T + j) * 3 * C + C + h * hs;
          for (let x = 0; x < hs; x++) {
            dqkv[q + x] += dS[j] * qkv[k + x];
            dqkv[k + x] += dS[j] * qkv[q + x];
          }
        }
      }
    }
  }
  return { dqkv, dprobs };
}
