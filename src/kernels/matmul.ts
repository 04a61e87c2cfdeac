/**
 * Matrix products: the linear layer in the nn.Linear convention (`out = inp @ weight^T + bias`) with its
 * backward, and a general batched product with transposes. Each op picks its tiling from the adapter
 * (`cpu` on llvmpipe, `gpu` on hardware; see {@linkcode MatmulVariant}); `variant` forces one.
 *
 * Dimensions: M rows (B*T), K input features, N output features.
 *
 * @module
 */
import dbiasWgsl from "../../shaders/matmul_dbias.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, groups, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertBindable, gemm, type MatmulVariant, pickVariant } from "./matmul_gemm.ts";
import { assertSize } from "./shapes.ts";
import { blockView, splitRowsOf } from "./split.ts";
import { COLUMN_LANES, withColumnLanes } from "./row_lanes.ts";

export type { MatmulVariant } from "./matmul_gemm.ts";

const DBIAS: KernelSource = {
  file: "matmul_dbias.wgsl",
  code: withColumnLanes(dbiasWgsl),
  bindings: ["read_write", "read", "uniform"],
};
const DBIAS_WG = 64;

/** Dimensions of the linear layer: M rows (B*T), K input features, N output features. */
export interface MatmulDims {
  M: number;
  K: number;
  N: number;
  /** Forces a tiling; default `cpu` on software adapters (llvmpipe), `gpu` on hardware. */
  variant?: MatmulVariant;
}

/** Dimensions and options of {@linkcode matmulBackward}. */
export interface MatmulBackwardDims extends MatmulDims {
  /** `dinp += dout @ weight` instead of `=` (when the input also feeds another branch). */
  accumulateInput?: boolean;
}

/** Dimensions and options of {@linkcode batchedMatmul}: `out[b] = alpha * op(a[b]) @ op(b[b])`. */
export interface BatchedMatmulDims {
  batch: number;
  /** op(a) is (M, K), op(b) is (K, N), out is (M, N). */
  M: number;
  N: number;
  K: number;
  /** a is stored (K, M) and op(a) = a^T; otherwise a is (M, K). */
  transA: boolean;
  /** b is stored (N, K) and op(b) = b^T; otherwise b is (K, N). */
  transB: boolean;
  /** Scale of the product (default 1). */
  alpha?: number;
  /** `out += ...` instead of `=`. */
  accumulate?: boolean;
  variant?: MatmulVariant;
}

/**
 * Prepares `out (M, N) = inp (M, K) @ weight (N, K)^T + bias (N)`; `bias` may be null. Run the returned
 * dispatches in order, not interleaved with another matmul's (on a software adapter the operands are packed
 * into textures shared by all matmuls of the device first).
 *
 * @example
 * ```ts
 * import { createTensor, matmulForward, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const inp = await createTensor(gpu, [1, 2], "f32", { data: [1, 2] });
 * const weight = await createTensor(gpu, [1, 2], "f32", { data: [3, 4] });
 * const out = await createTensor(gpu, [1, 1]);
 * await runDispatches(gpu, await matmulForward(gpu, { out, inp, weight, bias: null }, { M: 1, K: 2, N: 1 }));
 * console.log(await readTensor(gpu, out)); // Float32Array [11]
 * ```
 */
export async function matmulForward(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor; weight: Tensor; bias: Tensor | null },
  d: MatmulDims,
): Promise<Dispatch[]> {
  const k = "matmulForward";
  assertSize(k, "out", t.out, d.M * d.N, `M*N = ${d.M}*${d.N}`);
  assertSize(k, "inp", t.inp, d.M * d.K, `M*K = ${d.M}*${d.K}`);
  assertSize(k, "weight", t.weight, d.N * d.K, `N*K = ${d.N}*${d.K}`);
  if (t.bias) assertSize(k, "bias", t.bias, d.N, `N = ${d.N}`);
  const ranges = splitRowsOf(gpu, d.M, [d.K, d.N], k);
  if (ranges.length > 1) {
    // Row blocks of inp and out above the binding limit (an LM head's logits): one product per block.
    const list: Dispatch[] = [];
    for (const r of ranges) {
      const block = {
        out: blockView(gpu, k, "out", t.out, r, d.N),
        inp: blockView(gpu, k, "inp", t.inp, r, d.K),
      };
      list.push(...await matmulForward(gpu, { ...t, ...block }, { ...d, M: r.rows }));
    }
    return list;
  }
  assertBindable(gpu, k, t);
  // out(m, n) = sum_k inp[m, k] weight[n, k]: both operands K-contiguous.
  return await gemm(gpu, {
    out: t.out,
    a: t.inp,
    aPMajor: false,
    b: t.weight,
    bPMajor: false,
    bias: t.bias,
    I: d.M,
    J: d.N,
    P: d.K,
    Z: 1,
    alpha: 1,
    accumulate: false,
    variant: pickVariant(gpu, d.variant),
  });
}

/**
 * Prepares the backward of {@linkcode matmulForward}: `dinp (M, K) = dout (M, N) @ weight (N, K)` (`+=` with
 * `accumulateInput`), `dweight (N, K) += dout^T @ inp`, `dbias (N) += column sums of dout` (parameter
 * gradients accumulate). Any output may be null to skip it. Run the returned dispatches in order and do not
 * interleave them with another matmul's list: on a software adapter the operands are packed into textures
 * shared by all matmuls of the device first.
 *
 * @example
 * ```ts
 * import { createTensor, matmulBackward, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const dout = await createTensor(gpu, [1, 1], "f32", { data: [2] });
 * const inp = await createTensor(gpu, [1, 2], "f32", { data: [1, 2] });
 * const weight = await createTensor(gpu, [1, 2], "f32", { data: [3, 4] });
 * const dinp = await createTensor(gpu, [1, 2]);
 * const dweight = await createTensor(gpu, [1, 2]);
 * const dbias = await createTensor(gpu, [1]);
 * const t = { dinp, dweight, dbias, dout, inp, weight };
 * await runDispatches(gpu, await matmulBackward(gpu, t, { M: 1, K: 2, N: 1 }));
 * console.log(await readTensor(gpu, dinp), await readTensor(gpu, dweight)); // [6, 8] [2, 4]
 * ```
 */
export async function matmulBackward(
  gpu: Gpu,
  t: {
    dinp: Tensor | null;
    dweight: Tensor | null;
    dbias: Tensor | null;
    dout: Tensor;
    inp: Tensor;
    weight: Tensor;
  },
  d: MatmulBackwardDims,
): Promise<Dispatch[]> {
  const k = "matmulBackward";
  assertSize(k, "dout", t.dout, d.M * d.N, `M*N = ${d.M}*${d.N}`);
  assertSize(k, "inp", t.inp, d.M * d.K, `M*K = ${d.M}*${d.K}`);
  assertSize(k, "weight", t.weight, d.N * d.K, `N*K = ${d.N}*${d.K}`);
  if (t.dinp) assertSize(k, "dinp", t.dinp, d.M * d.K, `M*K = ${d.M}*${d.K}`);
  if (t.dweight) assertSize(k, "dweight", t.dweight, d.N * d.K, `N*K = ${d.N}*${d.K}`);
  if (t.dbias) assertSize(k, "dbias", t.dbias, d.N, `N = ${d.N}`);
  const ranges = splitRowsOf(gpu, d.M, [d.K, d.N], k);
  if (ranges.length > 1) {
    // Row blocks of dout, inp and dinp above the binding limit: dinp block by block, and the parameter
    // gradients (which accumulate anyway) summed over the blocks in order.
    const list: Dispatch[] = [];
    for (const r of ranges) {
      const block = {
        dinp: t.dinp && blockView(gpu, k, "dinp", t.dinp, r, d.K),
        dout: blockView(gpu, k, "dout", t.dout, r, d.N),
        inp: blockView(gpu, k, "inp", t.inp, r, d.K),
      };
      list.push(...await matmulBackward(gpu, { ...t, ...block }, { ...d, M: r.rows }));
    }
    return list;
  }
  assertBindable(gpu, k, t);
  const variant = pickVariant(gpu, d.variant);
  const out: Dispatch[] = [];
  if (t.dinp) {
    // dinp(m, k) = sum_n dout[m, n] weight[n, k]: dout is (I, P), weight is (P, J).
    out.push(
      ...await gemm(gpu, {
        out: t.dinp,
        a: t.dout,
        aPMajor: false,
        b: t.weight,
        bPMajor: true,
        bias: null,
        I: d.M,
        J: d.K,
        P: d.N,
        Z: 1,
        alpha: 1,
        accumulate: d.accumulateInput ?? false,
        variant,
      }),
    );
  }
  if (t.dweight) {
    // dweight(n, k) += sum_m dout[m, n] inp[m, k]: both operands stored with the summed index M as rows.
    out.push(
      ...await gemm(gpu, {
        out: t.dweight,
        a: t.dout,
        aPMajor: true,
        b: t.inp,
        bPMajor: true,
        bias: null,
        I: d.N,
        J: d.K,
        P: d.M,
        Z: 1,
        alpha: 1,
        accumulate: true,
        variant,
      }),
    );
  }
  if (t.dbias) {
    const params = new ParamPack().u32(d.M).u32(d.N).bytes();
    if (variant === "gpu") {
      // 32 columns x 8 lanes of rows per workgroup (matmul_dbias.wgsl, entry `lanes`).
      const kernel = await gpu.pipelines.get({ ...DBIAS, entryPoint: "lanes" }, COLUMN_LANES);
      out.push(prepareDispatch(gpu, kernel, [t.dbias, t.dout], params, [groups(d.N, COLUMN_LANES.COLS)]));
    } else {
      const kernel = await gpu.pipelines.get(DBIAS, { WG: DBIAS_WG });
      out.push(prepareDispatch(gpu, kernel, [t.dbias, t.dout], params, [groups(d.N, DBIAS_WG)]));
    }
  }
  return out;
}

/**
 * Prepares `out[z] (M, N) = alpha * op(a[z]) @ op(b[z])` (`+=` with `accumulate`) for `batch` contiguous
 * matrices, where op transposes when `transA` / `transB` says the operand is stored transposed. Run the
 * returned dispatches in order, not interleaved with another matmul's list (see {@linkcode matmulBackward}).
 *
 * @example
 * ```ts
 * import { batchedMatmul, createTensor, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const a = await createTensor(gpu, [1, 1, 2], "f32", { data: [1, 2] });
 * const b = await createTensor(gpu, [1, 1, 2], "f32", { data: [3, 4] });
 * const out = await createTensor(gpu, [1, 1, 1]);
 * const dims = { batch: 1, M: 1, N: 1, K: 2, transA: false, transB: true, alpha: 0.5 };
 * await runDispatches(gpu, await batchedMatmul(gpu, { out, a, b }, dims));
 * console.log(await readTensor(gpu, out)); // Float32Array [5.5]
 * ```
 */
export async function batchedMatmul(
  gpu: Gpu,
  t: { out: Tensor; a: Tensor; b: Tensor },
  d: BatchedMatmulDims,
): Promise<Dispatch[]> {
  const k = "batchedMatmul";
  const { batch, M, N, K } = d;
  if (!Number.isInteger(batch) || batch < 1 || batch > gpu.device.limits.maxComputeWorkgroupsPerDimension) {
    throw new RangeError(`${k}: batch must be a positive integer within the workgroup limit, got ${batch}`);
  }
  assertSize(k, "out", t.out, batch * M * N, `batch*M*N = ${batch}*${M}*${N}`);
  assertSize(k, "a", t.a, batch * M * K, `batch*M*K = ${batch}*${M}*${K}`);
  assertSize(k, "b", t.b, batch * K * N, `batch*K*N = ${batch}*${K}*${N}`);
  assertBindable(gpu, k, t);
  // out(m, n) = sum_k op(a)[m, k] op(b)[k, n]: a is (I, P) unless transposed; b is (P, J) unless transposed.
  return await gemm(gpu, {
    out: t.out,
    a: t.a,
    aPMajor: d.transA,
    b: t.b,
    bPMajor: !d.transB,
    bias: null,
    I: M,
    J: N,
    P: K,
    Z: batch,
    alpha: d.alpha ?? 1,
    accumulate: d.accumulate ?? false,
    variant: pickVariant(gpu, d.variant),
  });
}
