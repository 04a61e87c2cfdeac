/**
 * In-place scaling `x *= s`.
 *
 * @module
 */
import scaleWgsl from "../../shaders/scale.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";

const WG = 256;
const SCALE: KernelSource = { file: "scale.wgsl", code: scaleWgsl, bindings: ["read_write", "uniform"] };

/** Prepares `x *= s` over every element of `x`. */
export async function scale(gpu: Gpu, t: { x: Tensor }, o: { s: number }): Promise<Dispatch> {
  const kernel = await gpu.pipelines.get(SCALE, { WG });
  const n = t.x.size;
  return prepareDispatch(gpu, kernel, [t.x], new ParamPack().u32(n).f32(o.s).bytes(), grid1d(gpu, n, WG));
}
