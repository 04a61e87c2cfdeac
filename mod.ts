/**
 * addrop: fine-tuning of pretrained transformer encoders with AD-DROP (attribution-driven dropout), every
 * numeric kernel a WGSL compute shader on WebGPU.
 *
 * @example
 * ```ts
 * import { createTensor, readTensor, requestGpu, residualForward, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * console.log(gpu.description.name);
 * const a = await createTensor(gpu, [2], "f32", { data: [1, 2] });
 * const out = await createTensor(gpu, [2]);
 * await runDispatches(gpu, [await residualForward(gpu, { out, inp1: a, inp2: a })]);
 * console.log(await readTensor(gpu, out)); // Float32Array [2, 4]
 * ```
 *
 * @module
 */
export * from "./src/gpu/errors.ts";
export {
  type AdapterDescription,
  describeAdapter,
  Gpu,
  type GpuOptions,
  requestGpu,
} from "./src/gpu/device.ts";
export {
  createTensor,
  type DType,
  type HostArray,
  Tensor,
  type TensorOptions,
  writeTensor,
} from "./src/gpu/tensor.ts";
export {
  type Binding,
  CommandBatch,
  Dispatch,
  type Grid,
  grid1d,
  groups,
  prepareDispatch,
  runDispatches,
} from "./src/gpu/encoder.ts";
export { type Access, type Constants, Kernel, type KernelSource, PipelineCache } from "./src/gpu/pipeline.ts";
export { ParamPack } from "./src/gpu/params.ts";
export { readFloats, readMany, readTensor } from "./src/gpu/readback.ts";
export { timeGpu, type TimeOptions, timeWall, type Timing } from "./src/gpu/timing.ts";
export { residualBackward, residualForward } from "./src/kernels/residual.ts";
export { type MatmulDims, matmulForward } from "./src/kernels/matmul.ts";
export { ShapeError } from "./src/kernels/shapes.ts";
