/**
 * LayerNorm over the last dimension (HF `nn.LayerNorm`), forward and backward. The backward reduces the
 * parameter gradients over rows in two deterministic stages (per-workgroup partial sums into a scratch tensor,
 * then a fixed-order sum per column): no atomics.
 *
 * @module
 */
import layernormForwardWgsl from "../../shaders/layernorm_forward.wgsl" with { type: "text" };
import layernormBackwardWgsl from "../../shaders/layernorm_backward.wgsl" with { type: "text" };
import layernormBackwardReduceWgsl from "../../shaders/layernorm_backward_reduce.wgsl" with { type: "text" };
import layernormBackwardRowsWgsl from "../../shaders/layernorm_backward_rows.wgsl" with { type: "text" };
import layernormForwardRowsWgsl from "../../shaders/layernorm_forward_rows.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, groups, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSize, ShapeError } from "./shapes.ts";
import { COLUMN_LANES, withColumnLanes } from "./row_lanes.ts";

/** Dimensions: `rows` = B*T rows of `C` features. */
export interface LayernormDims {
  rows: number;
  C: number;
}

/**
 * How rows map to the hardware: `workgroup` (one workgroup per row, tree reductions; for GPUs) or `invocation`
 * (a few rows, or a row block, per invocation, vec4 loads, no barriers; for CPU-emulated adapters such as llvmpipe,
 * needs C % 4 = 0 and C <= 1024). Default: `invocation` on a software adapter where C allows it.
 */
export type LayernormLayout = "workgroup" | "invocation";

function layoutOf(gpu: Gpu, d: LayernormDims & { layout?: LayernormLayout }): LayernormLayout {
  const fits = d.C % 4 === 0 && d.C <= 1024;
  if (d.layout === "invocation" && !fits) {
    throw new ShapeError(`layernorm: layout 'invocation' needs C % 4 = 0 and C <= 1024, got C = ${d.C}`);
  }
  return d.layout ?? (gpu.isSoftware && fits ? "invocation" : "workgroup");
}

/** Invocations per workgroup (one row per workgroup); chosen by `bench/elementwise_bench.ts`. */
const WG = 128;
/**
 * Target number of row blocks (workgroups) of the backward on software adapters; each writes one partial row per
 * gradient. On hardware GPUs each block has {@linkcode HARDWARE_ROWS_PER_GROUP} rows instead: 64 workgroups of
 * 128 invocations left an NVIDIA H200 mostly idle (36.7 GB/s against its copy's 1393, docs/gpu.md).
 */
const BACKWARD_GROUPS = 64;
/** Rows per backward block on hardware GPUs (4096 rows: 1024 workgroups). Not yet measured on a GPU. */
const HARDWARE_ROWS_PER_GROUP = 4;

const FORWARD: KernelSource = {
  file: "layernorm_forward.wgsl",
  code: layernormForwardWgsl,
  bindings: ["read_write", "read_write", "read_write", "read", "read", "read", "uniform"],
};

const BACKWARD: KernelSource = {
  file: "layernorm_backward.wgsl",
  code: layernormBackwardWgsl,
  bindings: ["read_write", "read_write", "read", "read", "read", "read", "read", "uniform"],
};

const FORWARD_ROWS: KernelSource = {
  ...FORWARD,
  file: "layernorm_forward_rows.wgsl",
  code: layernormForwardRowsWgsl,
};
const BACKWARD_ROWS: KernelSource = {
  ...BACKWARD,
  file: "layernorm_backward_rows.wgsl",
  code: layernormBackwardRowsWgsl,
};
/** Invocations per workgroup of the `invocation` layout (each owns a row or a row block). */
const ROWS_WG = 8;
/** Rows per invocation of layernorm_forward_rows.wgsl (its `K`). */
const FORWARD_ROWS_PER_INVOCATION = 4;

const BACKWARD_REDUCE: KernelSource = {
  file: "layernorm_backward_reduce.wgsl",
  code: withColumnLanes(layernormBackwardReduceWgsl),
  bindings: ["read_write", "read_write", "read", "uniform"],
};
/** The reduce over vec4s of columns (`main4`), for the rows layout (C % 4 = 0). */
const BACKWARD_REDUCE4: KernelSource = { ...BACKWARD_REDUCE, entryPoint: "main4" };

function checkRows(kernel: string, t: Record<string, Tensor>, d: LayernormDims): void {
  for (const [name, x] of Object.entries(t)) {
    assertSize(kernel, name, x, d.rows * d.C, `rows*C = ${d.rows}*${d.C}`);
  }
}

/**
 * Prepares `out = (inp - mean) * rstd * weight + bias` per row, saving `mean` and `rstd` (rows).
 *
 * @example
 * ```ts
 * import { createTensor, layernormForward, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const inp = await createTensor(gpu, [1, 4], "f32", { data: [1, 2, 3, 4] });
 * const weight = await createTensor(gpu, [4], "f32", { data: [1, 1, 1, 1] });
 * const bias = await createTensor(gpu, [4]);
 * const [out, mean, rstd] = [await createTensor(gpu, [1, 4]), await createTensor(gpu, [1]), await createTensor(gpu, [1])];
 * const d = await layernormForward(gpu, { out, mean, rstd, inp, weight, bias }, { rows: 1, C: 4, eps: 1e-12 });
 * await runDispatches(gpu, [d]);
 * console.log(await readTensor(gpu, out)); // ~ [-1.342, -0.447, 0.447, 1.342]
 * ```
 */
export async function layernormForward(
  gpu: Gpu,
  t: { out: Tensor; mean: Tensor; rstd: Tensor; inp: Tensor; weight: Tensor; bias: Tensor },
  d: LayernormDims & { eps: number; layout?: LayernormLayout },
): Promise<Dispatch> {
  const k = "layernormForward";
  checkRows(k, { out: t.out, inp: t.inp }, d);
  for (const name of ["mean", "rstd"] as const) assertSize(k, name, t[name], d.rows, `rows = ${d.rows}`);
  for (const name of ["weight", "bias"] as const) assertSize(k, name, t[name], d.C, `C = ${d.C}`);
  if (!(d.eps >= 0)) throw new RangeError(`${k}: eps must be >= 0, got ${d.eps}`);
  const rows = layoutOf(gpu, d) === "invocation";
  const kernel = rows
    ? await gpu.pipelines.get(FORWARD_ROWS, { WG: ROWS_WG })
    : await gpu.pipelines.get(FORWARD, { WG });
  return prepareDispatch(
    gpu,
    kernel,
    [t.out, t.mean, t.rstd, t.inp, t.weight, t.bias],
    new ParamPack().u32(d.rows).u32(d.C).f32(d.eps).bytes(),
    rows ? grid1d(gpu, groups(d.rows, FORWARD_ROWS_PER_INVOCATION), ROWS_WG) : grid1d(gpu, d.rows, 1),
  );
}

function blocks(software: boolean, rows: number): { rowsPerGroup: number; G: number } {
  const rowsPerGroup = software ? groups(rows, BACKWARD_GROUPS) : HARDWARE_ROWS_PER_GROUP;
  return { rowsPerGroup, G: groups(rows, rowsPerGroup) };
}

/**
 * Shape of the scratch tensor {@linkcode layernormBackward} needs, on any adapter: `[2, G, C]` partial sums, G
 * the larger of the software and hardware block counts (the backward uses the first `2 G C` elements of its
 * adapter's G).
 */
export function layernormScratchShape(d: LayernormDims): number[] {
  return [2, Math.max(blocks(true, d.rows).G, blocks(false, d.rows).G), d.C];
}

/**
 * Prepares the backward: `dinp =` (or `+=` with `accumulate`), `dweight +=`, `dbias +=`, from the `mean` and
 * `rstd` saved by the forward. `scratch` has {@linkcode layernormScratchShape} and is overwritten; allocate it
 * once per shape. Two dispatches, to be recorded in order.
 */
export async function layernormBackward(
  gpu: Gpu,
  t: {
    dinp: Tensor;
    dweight: Tensor;
    dbias: Tensor;
    scratch: Tensor;
    dout: Tensor;
    inp: Tensor;
    weight: Tensor;
    mean: Tensor;
    rstd: Tensor;
  },
  d: LayernormDims & { accumulate?: boolean; layout?: LayernormLayout },
): Promise<Dispatch[]> {
  const k = "layernormBackward";
  checkRows(k, { dinp: t.dinp, dout: t.dout, inp: t.inp }, d);
  for (const name of ["mean", "rstd"] as const) assertSize(k, name, t[name], d.rows, `rows = ${d.rows}`);
  for (const name of ["weight", "dweight", "dbias"] as const) {
    assertSize(k, name, t[name], d.C, `C = ${d.C}`);
  }
  const { rowsPerGroup, G } = blocks(gpu.isSoftware, d.rows);
  const want = layernormScratchShape(d);
  assertSize(
    k,
    "scratch",
    t.scratch,
    want[0] * want[1] * want[2],
    `layernormScratchShape = [${want.join(", ")}]`,
  );
  const scratch = t.scratch.view([2, G, d.C]);
  const rows = layoutOf(gpu, d) === "invocation";
  const wgBytes = gpu.device.limits.maxComputeWorkgroupStorageSize;
  if (!rows && (2 * d.C + 2 * WG) * 4 > wgBytes) {
    throw new ShapeError(
      `${k}: C = ${d.C} needs ${(2 * d.C + 2 * WG) * 4} bytes of workgroup memory, ` +
        `the device has ${wgBytes}`,
    );
  }
  const acc = d.accumulate ? 1 : 0;
  const stage1 = rows
    ? await gpu.pipelines.get(BACKWARD_ROWS, { WG: ROWS_WG, ACC: acc, C4: d.C / 4 })
    : await gpu.pipelines.get(BACKWARD, { WG, ACC: acc, CMAX: Math.max(1, d.C) });
  // Stage 2 on GPUs: 32 columns x 8 lanes of partials per workgroup (entry `lanes`).
  const stage2 = gpu.isSoftware
    ? await gpu.pipelines.get(rows ? BACKWARD_REDUCE4 : BACKWARD_REDUCE, { WG: 64 })
    : await gpu.pipelines.get({ ...BACKWARD_REDUCE, entryPoint: "lanes" }, COLUMN_LANES);
  return [
    prepareDispatch(
      gpu,
      stage1,
      [t.dinp, scratch, t.dout, t.inp, t.weight, t.mean, t.rstd],
      new ParamPack().u32(d.rows).u32(d.C).u32(rowsPerGroup).u32(G).bytes(),
      rows ? [groups(G, ROWS_WG)] : [G],
    ),
    prepareDispatch(
      gpu,
      stage2,
      [t.dweight, t.dbias, scratch],
      new ParamPack().u32(d.C).u32(G).bytes(),
      [gpu.isSoftware ? groups(rows ? d.C / 2 : 2 * d.C, 64) : groups(2 * d.C, COLUMN_LANES.COLS)],
    ),
  ];
}
