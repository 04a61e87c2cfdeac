/**
 * CPU references of the losses: softmax cross-entropy with integer targets (rows whose target is outside
 * [0, V), e.g. -100, are ignored) and mean squared error. Each returns the loss and its gradient, as the fused
 * kernels of `src/kernels/loss.ts` do. f64 throughout.
 *
 * @module
 */

/** The target value Hugging Face uses for ignored positions. */
export const IGNORE_INDEX = -100;

/**
 * Mean cross-entropy over the rows with a valid target, per-row losses (0 when ignored) and
 * `dlogits = (softmax - onehot) / count` (0 for ignored rows). count = 0 gives loss 0.
 */
export function crossEntropyForward(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  d: { N: number; V: number },
): { loss: number; losses: Float64Array; dlogits: Float64Array } {
  const { N, V } = d;
  const valid = (t: number) => Number.isInteger(t) && t >= 0 && t < V;
  let count = 0;
  for (let n = 0; n < N; n++) if (valid(targets[n])) count++;
  const losses = new Float64Array(N);
  const dlogits = new Float64Array(N * V);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (!valid(t)) continue;
    const o = n * V;
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[o + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - m);
    losses[n] = Math.log(s) + m - logits[o + t];
    total += losses[n];
    for (let v = 0; v < V; v++) {
      dlogits[o + v] = (Math.exp(logits[o + v] - m) / s - (v === t ? 1 : 0)) / count;
    }
  }
  return { loss: count > 0 ? total / count : 0, losses, dlogits };
}

/** `loss = mean (pred - target)^2` (0 when N = 0) and `dpred = 2 (pred - target) / N`. */
export function mseForward(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
): { loss: number; dpred: Float64Array } {
  const N = pred.length;
  const dpred = new Float64Array(N);
  let s = 0;
  for (let i = 0; i < N; i++) {
    const d = pred[i] - target[i];
    s += d * d;
    dpred[i] = (2 * d) / N;
  }
  return { loss: N > 0 ? s / N : 0, dpred };
}
