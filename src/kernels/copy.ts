/**
 * A vec4 copy kernel: the bandwidth yardstick for the memory-bound kernels in `deno task bench`.
 *
 * @module
 */
import copyWgsl from "../../shaders/copy.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSameSize, ShapeError } from "./shapes.ts";

const WG = 256;
const COPY: KernelSource = { file: "copy.wgsl", code: copyWgsl, bindings: ["read_write", "read", "uniform"] };

/** Prepares `out = inp` for tensors whose element count is a multiple of 4. */
export async function copyKernel(gpu: Gpu, t: { out: Tensor; inp: Tensor }): Promise<Dispatch> {
  assertSameSize("copyKernel", t);
  if (t.inp.size % 4 !== 0) throw new ShapeError(`copyKernel: size ${t.inp.size} is not a multiple of 4`);
  const kernel = await gpu.pipelines.get(COPY, { WG });
  const n4 = t.inp.size / 4;
  return prepareDispatch(gpu, kernel, [t.out, t.inp], new ParamPack().u32(n4).bytes(), grid1d(gpu, n4, WG));
}
