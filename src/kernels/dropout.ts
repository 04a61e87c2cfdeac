/**
 * Hidden dropout with the counter-based generator of `src/reference/random.ts`: the mask is a pure function of
 * the `rng` buffer `[seed, step]` and (layer, purpose, slot), so the backward regenerates it instead of saving
 * it, and prepared dispatches replay unchanged when the training loop rewrites `rng` each step.
 *
 * @module
 */
import dropoutForwardWgsl from "../../shaders/dropout_forward.wgsl" with { type: "text" };
import dropoutBackwardWgsl from "../../shaders/dropout_backward.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { type DropoutOptions, dropoutScale } from "../reference/dropout.ts";
import { Purpose } from "../reference/random.ts";
import { assertSameSize, assertSize } from "./shapes.ts";
import { withRandom } from "./random_wgsl.ts";

export type { DropoutOptions };

const WG = 256;

const FORWARD: KernelSource = {
  file: "dropout_forward.wgsl",
  code: withRandom(dropoutForwardWgsl),
  bindings: ["read_write", "read", "read", "uniform"],
};

const BACKWARD: KernelSource = {
  file: "dropout_backward.wgsl",
  code: withRandom(dropoutBackwardWgsl),
  bindings: ["read_write", "read", "read", "uniform"],
};

/** The vec4 entry point where the element count and both tensors' starts allow it. */
function entry(source: KernelSource, n: number, tensors: Tensor[]): { source: KernelSource; n: number } {
  const vec4 = n % 4 === 0 && tensors.every((t) => t.byteOffset % 16 === 0);
  return vec4 ? { source: { ...source, entryPoint: "main4" }, n: n / 4 } : { source, n };
}

function params(kernel: string, n: number, o: DropoutOptions): ArrayBuffer {
  if (!(o.p >= 0 && o.p <= 1)) throw new RangeError(`${kernel}: p must be in [0, 1], got ${o.p}`);
  return new ParamPack().u32(n).u32(o.layer).u32(o.purpose ?? Purpose.hiddenDropout).u32(o.slot)
    .f32(o.p).f32(dropoutScale(o.p)).bytes();
}

/**
 * Prepares `out = keep ? inp / (1 - p) : 0` (`out` and `inp` must be different tensors; `rng` is the u32
 * tensor `[seed, step]`). p = 0 copies exactly.
 *
 * @example
 * ```ts
 * import { createTensor, dropoutForward, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const inp = await createTensor(gpu, [8], "f32", { data: [1, 1, 1, 1, 1, 1, 1, 1] });
 * const out = await createTensor(gpu, [8]);
 * const rng = await createTensor(gpu, [2], "u32", { data: [1234, 0] });
 * await runDispatches(gpu, [await dropoutForward(gpu, { out, inp, rng }, { p: 0.5, layer: 0, slot: 0 })]);
 * console.log(await readTensor(gpu, out)); // each value 0 or 2
 * ```
 */
export async function dropoutForward(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor; rng: Tensor },
  o: DropoutOptions,
): Promise<Dispatch> {
  assertSameSize("dropoutForward", { out: t.out, inp: t.inp });
  assertSize("dropoutForward", "rng", t.rng, 2, "[seed, step]");
  const n = t.out.size;
  const e = entry(FORWARD, n, [t.out, t.inp]);
  const kernel = await gpu.pipelines.get(e.source, { WG });
  return prepareDispatch(
    gpu,
    kernel,
    [t.out, t.inp, t.rng],
    params("dropoutForward", n, o),
    grid1d(gpu, e.n, WG),
  );
}

/** Prepares `dinp = keep ? dout / (1 - p) : 0` (`+=` with `accumulate`) with the forward's mask. */
export async function dropoutBackward(
  gpu: Gpu,
  t: { dinp: Tensor; dout: Tensor; rng: Tensor },
  o: DropoutOptions & { accumulate?: boolean },
): Promise<Dispatch> {
  assertSameSize("dropoutBackward", { dinp: t.dinp, dout: t.dout });
  assertSize("dropoutBackward", "rng", t.rng, 2, "[seed, step]");
  const n = t.dout.size;
  const e = entry(BACKWARD, n, [t.dinp, t.dout]);
  const kernel = await gpu.pipelines.get(e.source, { WG, ACC: o.accumulate ? 1 : 0 });
  return prepareDispatch(
    gpu,
    kernel,
    [t.dinp, t.dout, t.rng],
    params("dropoutBackward", n, o),
    grid1d(gpu, e.n, WG),
  );
}
