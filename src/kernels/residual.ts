/**
 * Residual connection: `out = inp1 + inp2` and its backward (both inputs receive `dout`, accumulated).
 *
 * @module
 */
import residualForwardWgsl from "../../shaders/residual_forward.wgsl" with { type: "text" };
import residualBackwardWgsl from "../../shaders/residual_backward.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSameSize } from "./shapes.ts";

const WG = 256;

const FORWARD: KernelSource = {
  file: "residual_forward.wgsl",
  code: residualForwardWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};

const BACKWARD: KernelSource = {
  file: "residual_backward.wgsl",
  code: residualBackwardWgsl,
  bindings: ["read_write", "read_write", "read", "uniform"],
};

/**
 * Prepares `out = inp1 + inp2` over all elements.
 *
 * @example
 * ```ts
 * import { createTensor, readTensor, requestGpu, residualForward, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const a = await createTensor(gpu, [3], "f32", { data: [1, 2, 3] });
 * const b = await createTensor(gpu, [3], "f32", { data: [10, 20, 30] });
 * const out = await createTensor(gpu, [3]);
 * await runDispatches(gpu, [await residualForward(gpu, { out, inp1: a, inp2: b })]);
 * console.log(await readTensor(gpu, out)); // Float32Array [11, 22, 33]
 * ```
 */
export async function residualForward(
  gpu: Gpu,
  t: { out: Tensor; inp1: Tensor; inp2: Tensor },
): Promise<Dispatch> {
  assertSameSize("residualForward", t);
  const kernel = await gpu.pipelines.get(FORWARD, { WG });
  const n = t.out.size;
  return prepareDispatch(
    gpu,
    kernel,
    [t.out, t.inp1, t.inp2],
    new ParamPack().u32(n).bytes(),
    grid1d(gpu, n, WG),
  );
}

/** Prepares `dinp1 += dout; dinp2 += dout`. */
export async function residualBackward(
  gpu: Gpu,
  t: { dinp1: Tensor; dinp2: Tensor; dout: Tensor },
): Promise<Dispatch> {
  assertSameSize("residualBackward", t);
  const kernel = await gpu.pipelines.get(BACKWARD, { WG });
  const n = t.dout.size;
  return prepareDispatch(
    gpu,
    kernel,
    [t.dinp1, t.dinp2, t.dout],
    new ParamPack().u32(n).bytes(),
    grid1d(gpu, n, WG),
  );
}
