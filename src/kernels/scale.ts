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
import { blockView, splitRowsOf } from "./split.ts";

const WG = 256;
const SCALE: KernelSource = { file: "scale.wgsl", code: scaleWgsl, bindings: ["read_write", "uniform"] };

/** Prepares `x *= s` over every element of `x` (bound whole). */
export async function scale(gpu: Gpu, t: { x: Tensor }, o: { s: number }): Promise<Dispatch> {
  return (await scaleSplit(gpu, t, o, false))[0];
}

/**
 * Prepares `x *= s` over every element of `x`: one dispatch, or one per block of elements where `x` exceeds the
 * binding limit (an LM head's logits).
 */
export async function scaleSplit(
  gpu: Gpu,
  t: { x: Tensor },
  o: { s: number },
  split = true,
): Promise<Dispatch[]> {
  const kernel = await gpu.pipelines.get(SCALE, { WG });
  const ranges = split ? splitRowsOf(gpu, t.x.size, [1], "scale") : [{ first: 0, rows: t.x.size }];
  return ranges.map((r) => {
    const x = blockView(gpu, "scale", "x", t.x, r, 1);
    const n = r.rows;
    return prepareDispatch(
      gpu,
      kernel,
      [x],
      new ParamPack().u32(n).f32(o.s).bytes(),
      grid1d(gpu, Math.max(n, 1), WG),
    );
  });
}
