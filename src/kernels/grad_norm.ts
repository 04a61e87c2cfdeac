/**
 * Global gradient norm and clipping coefficient as `torch.nn.utils.clip_grad_norm_` computes them, entirely on
 * the GPU: `norm = sqrt(sum over all gradients of g^2)` by a deterministic two-stage reduction, then
 * `clipCoef = min(1, maxNorm / (norm + 1e-6))`, which `adamwUpdate` multiplies into the gradients it reads.
 *
 * @module
 */
import gradNormFinalWgsl from "../../shaders/grad_norm_final.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { reducePartialCount, reducePartials } from "./reduce.ts";
import { assertSize } from "./shapes.ts";

const WG = 256;
const FINAL: KernelSource = {
  file: "grad_norm_final.wgsl",
  code: gradNormFinalWgsl,
  bindings: ["read_write", "read_write", "read", "uniform"],
};

/** Options of {@linkcode gradNorm}. */
export interface GradNormOptions {
  /** torch's `max_norm`; 0 or Infinity means no clipping (`clipCoef` = 1, the norm is still computed). */
  maxNorm: number;
}

/** Number of elements of the `partials` scratch tensor of {@linkcode gradNorm} for these gradients. */
export function gradNormPartialCount(gpu: Gpu, grads: readonly Tensor[]): number {
  return reducePartialCount(gpu, grads.map((g) => g.size));
}

/**
 * Prepares the global L2 norm of `grads` into `norm` (1) and the clipping coefficient into `clipCoef` (1).
 * `partials` is scratch of {@linkcode gradNormPartialCount} elements. Gradients are read, not scaled: the
 * optimizer applies `clipCoef`. A non-finite norm gives a non-finite or zero coefficient, as in torch.
 *
 * @example
 * ```ts
 * import { createTensor, gradNorm, gradNormPartialCount, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const grads = [await createTensor(gpu, [2], "f32", { data: [3, 0] }), await createTensor(gpu, [1], "f32", { data: [4] })];
 * const norm = await createTensor(gpu, [1]);
 * const clipCoef = await createTensor(gpu, [1]);
 * const partials = await createTensor(gpu, [gradNormPartialCount(gpu, grads)]);
 * await runDispatches(gpu, await gradNorm(gpu, { norm, clipCoef, partials, grads }, { maxNorm: 1 }));
 * console.log(await readTensor(gpu, norm), await readTensor(gpu, clipCoef)); // [5] [~0.2]
 * ```
 */
export async function gradNorm(
  gpu: Gpu,
  t: { norm: Tensor; clipCoef: Tensor; partials: Tensor; grads: readonly Tensor[] },
  o: GradNormOptions,
): Promise<Dispatch[]> {
  assertSize("gradNorm", "norm", t.norm, 1, "1");
  assertSize("gradNorm", "clipCoef", t.clipCoef, 1, "1");
  if (!(o.maxNorm >= 0)) {
    throw new RangeError(`gradNorm: maxNorm must be >= 0 (or Infinity), got ${o.maxNorm}`);
  }
  const first = await reducePartials(gpu, { partials: t.partials, inputs: t.grads }, {
    square: true,
    kernel: "gradNorm",
  });
  const clip = o.maxNorm > 0 && Number.isFinite(o.maxNorm);
  const params = new ParamPack().u32(t.partials.size).u32(clip ? 1 : 0).f32(clip ? o.maxNorm : 0).bytes();
  const kernel = await gpu.pipelines.get(FINAL, { WG });
  return [...first, prepareDispatch(gpu, kernel, [t.norm, t.clipCoef, t.partials], params, [1])];
}
