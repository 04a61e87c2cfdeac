/**
 * CPU reference of the global gradient norm and clipping coefficient (f64), as
 * `torch.nn.utils.clip_grad_norm_` defines them: the specification `src/kernels/grad_norm.ts` is tested against.
 *
 * @module
 */

/** `norm = sqrt(sum g^2)` over all gradients; `clipCoef = min(1, maxNorm / (norm + 1e-6))`, 1 when maxNorm is 0 or Infinity. */
export function gradNorm(
  grads: readonly ArrayLike<number>[],
  maxNorm: number,
): { norm: number; clipCoef: number } {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  const norm = Math.sqrt(s);
  const clip = maxNorm > 0 && Number.isFinite(maxNorm);
  return { norm, clipCoef: clip ? Math.min(1, maxNorm / (norm + 1e-6)) : 1 };
}
