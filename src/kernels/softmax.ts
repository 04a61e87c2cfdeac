/**
 * Row softmax and its backward over `rows` rows of `cols` values (numerically stable: the row maximum is
 * subtracted before exp).
 *
 * @module
 */
import softmaxForwardWgsl from "../../shaders/softmax_forward.wgsl" with { type: "text" };
import softmaxBackwardWgsl from "../../shaders/softmax_backward.wgsl" with { type: "text" };
import softmaxBackwardVec4Wgsl from "../../shaders/softmax_backward_vec4.wgsl" with { type: "text" };
import softmaxForwardVec4Wgsl from "../../shaders/softmax_forward_vec4.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, type Grid, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { Kernel, KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { rowLanes, withRowLanes } from "./row_lanes.ts";
import { assertSize, ShapeError } from "./shapes.ts";

/** Dimensions of {@linkcode softmaxForward} / {@linkcode softmaxBackward}. */
export interface SoftmaxDims {
  rows: number;
  cols: number;
  /**
   * The scalar kernel even where the vec4 one applies (tests). The vec4 kernels (cols % 4 = 0) issue a quarter
   * of the loads, which is what a software adapter such as llvmpipe pays for.
   */
  scalar?: boolean;
  /**
   * Layout of the vec4 kernels: `invocation`, one row per invocation (default on a software adapter), or
   * `lanes`, up to 32 neighbouring invocations per row (default on GPUs, where a warp then reads neighbouring
   * vec4s instead of vec4s a row apart).
   */
  layout?: "invocation" | "lanes";
}

const WG = 64;
const FORWARD: KernelSource = {
  file: "softmax_forward.wgsl",
  code: softmaxForwardWgsl,
  bindings: ["read_write", "read", "uniform"],
};
const BACKWARD: KernelSource = {
  file: "softmax_backward.wgsl",
  code: softmaxBackwardWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};
const FORWARD_VEC4: KernelSource = {
  ...FORWARD,
  file: "softmax_forward_vec4.wgsl",
  code: withRowLanes(softmaxForwardVec4Wgsl),
};
const BACKWARD_VEC4: KernelSource = {
  ...BACKWARD,
  file: "softmax_backward_vec4.wgsl",
  code: withRowLanes(softmaxBackwardVec4Wgsl),
};

function vec4(d: SoftmaxDims): boolean {
  return !d.scalar && d.cols % 4 === 0;
}

/** The kernel and grid: scalar, vec4 one row per invocation, or vec4 in lanes (see SoftmaxDims.layout). */
async function rowKernel(
  gpu: Gpu,
  d: SoftmaxDims,
  scalar: KernelSource,
  vec: KernelSource,
): Promise<{ kernel: Kernel; grid: Grid }> {
  if (!vec4(d)) return { kernel: await gpu.pipelines.get(scalar, { WG }), grid: grid1d(gpu, d.rows, WG) };
  if ((d.layout ?? (gpu.isSoftware ? "invocation" : "lanes")) === "invocation") {
    return { kernel: await gpu.pipelines.get(vec, { WG }), grid: grid1d(gpu, d.rows, WG) };
  }
  const LANES = rowLanes(d.cols);
  const kernel = await gpu.pipelines.get({ ...vec, entryPoint: "lanes" }, { WG, LANES });
  return { kernel, grid: grid1d(gpu, d.rows, WG / LANES) };
}

function check(kernel: string, d: SoftmaxDims, t: Record<string, Tensor>): void {
  if (!(Number.isInteger(d.cols) && d.cols > 0)) {
    throw new ShapeError(`${kernel}: cols = ${d.cols} must be >= 1`);
  }
  for (const [name, tensor] of Object.entries(t)) {
    assertSize(kernel, name, tensor, d.rows * d.cols, `rows*cols = ${d.rows}*${d.cols}`);
  }
}

/**
 * Prepares `out[r, :] = softmax(inp[r, :])`; vec4 loads where cols % 4 = 0 (one row per invocation, or rows in
 * lanes on GPUs).
 *
 * @example
 * ```ts
 * import { createTensor, readTensor, requestGpu, runDispatches, softmaxForward } from "./mod.ts";
 * const gpu = await requestGpu();
 * const inp = await createTensor(gpu, [1, 3], "f32", { data: [0, 0, Math.log(2)] });
 * const out = await createTensor(gpu, [1, 3]);
 * await runDispatches(gpu, [await softmaxForward(gpu, { out, inp }, { rows: 1, cols: 3 })]);
 * console.log(await readTensor(gpu, out)); // Float32Array [0.25, 0.25, 0.5]
 * ```
 */
export async function softmaxForward(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor },
  d: SoftmaxDims,
): Promise<Dispatch> {
  check("softmaxForward", d, t);
  const params = new ParamPack().u32(d.rows).u32(d.cols).bytes();
  const { kernel, grid } = await rowKernel(gpu, d, FORWARD, FORWARD_VEC4);
  return prepareDispatch(gpu, kernel, [t.out, t.inp], params, grid);
}

/** Prepares `dinp = out * (dout - sum(dout * out))` per row (written, =); vec4 loads where cols % 4 = 0. */
export async function softmaxBackward(
  gpu: Gpu,
  t: { dinp: Tensor; dout: Tensor; out: Tensor },
  d: SoftmaxDims,
): Promise<Dispatch> {
  check("softmaxBackward", d, t);
  const params = new ParamPack().u32(d.rows).u32(d.cols).bytes();
  const { kernel, grid } = await rowKernel(gpu, d, BACKWARD, BACKWARD_VEC4);
  return prepareDispatch(gpu, kernel, [t.dinp, t.dout, t.out], params, grid);
}
