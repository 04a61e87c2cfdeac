/**
 * Matrix multiplication with bias in the nn.Linear convention: `out = inp @ weight^T + bias`.
 *
 * @module
 */
import matmulForwardWgsl from "../../shaders/matmul_forward.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, groups, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSize } from "./shapes.ts";

const FORWARD: KernelSource = {
  file: "matmul_forward.wgsl",
  code: matmulForwardWgsl,
  bindings: ["read_write", "read", "read", "read", "uniform"],
};
const TILE = 64;

/** Dimensions: M rows (B*T), K input features, N output features. */
export interface MatmulDims {
  M: number;
  K: number;
  N: number;
}

/**
 * Prepares `out (M, N) = inp (M, K) @ weight (N, K)^T + bias (N)`; `bias` may be null.
 *
 * @example
 * ```ts
 * import { createTensor, matmulForward, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const inp = await createTensor(gpu, [1, 2], "f32", { data: [1, 2] });
 * const weight = await createTensor(gpu, [1, 2], "f32", { data: [3, 4] });
 * const out = await createTensor(gpu, [1, 1]);
 * await runDispatches(gpu, [await matmulForward(gpu, { out, inp, weight, bias: null }, { M: 1, K: 2, N: 1 })]);
 * console.log(await readTensor(gpu, out)); // Float32Array [11]
 * ```
 */
export async function matmulForward(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor; weight: Tensor; bias: Tensor | null },
  d: MatmulDims,
): Promise<Dispatch> {
  const k = "matmulForward";
  assertSize(k, "out", t.out, d.M * d.N, `M*N = ${d.M}*${d.N}`);
  assertSize(k, "inp", t.inp, d.M * d.K, `M*K = ${d.M}*${d.K}`);
  assertSize(k, "weight", t.weight, d.N * d.K, `N*K = ${d.N}*${d.K}`);
  if (t.bias) assertSize(k, "bias", t.bias, d.N, `N = ${d.N}`);
  const kernel = await gpu.pipelines.get(FORWARD);
  const params = new ParamPack().u32(d.M).u32(d.N).u32(d.K).u32(t.bias ? 1 : 0).bytes();
  return prepareDispatch(gpu, kernel, [t.out, t.inp, t.weight, t.bias ?? t.weight], params, [
    groups(d.N, TILE),
    groups(d.M, TILE),
  ]);
}
