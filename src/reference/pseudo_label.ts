/**
 * CPU reference of the pseudo-label gradient that starts AD-DROP's attribution backward.
 *
 * @module
 */
import type { PseudoLabelMode } from "../kernels/pseudo_label.ts";

/** See shaders/pseudo_label_grad.wgsl. */
export function pseudoLabelGrad(
  logits: Float32Array,
  targets: Int32Array,
  { rows, L, mode }: { rows: number; L: number; mode: PseudoLabelMode },
): Float32Array {
  const out = new Float32Array(rows * L);
  let count = 0;
  for (let r = 0; r < rows; r++) if (targets[r] !== -100) count++;
  count = Math.max(count, 1);
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * L, (r + 1) * L);
    let best = 0;
    for (let j = 1; j < L; j++) if (row[j] > row[best]) best = j;
    if (mode === "onehot") {
      out[r * L + best] = 1;
      continue;
    }
    if (targets[r] === -100) continue;
    const mx = row[best];
    let sum = 0;
    for (let j = 0; j < L; j++) sum += Math.exp(row[j] - mx);
    for (let j = 0; j < L; j++) {
      out[r * L + j] = -(Math.exp(row[j] - mx) / sum - (j === best ? 1 : 0)) / count;
    }
  }
  return out;
}

/** See shaders/pseudo_label_ids.wgsl: each row's argmax (first maximum), -100 where the target is -100. */
export function pseudoLabelIds(
  logits: Float32Array,
  targets: Int32Array,
  { rows, L }: { rows: number; L: number },
): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (targets[r] === -100) {
      out[r] = -100;
      continue;
    }
    let best = 0;
    for (let j = 1; j < L; j++) if (logits[r * L + j] > logits[r * L + best]) best = j;
    out[r] = best;
  }
  return out;
}
