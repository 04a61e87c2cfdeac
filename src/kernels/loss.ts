/**
 * Losses with their gradients fused in: softmax cross-entropy over integer targets (ignored rows: any target
 * outside [0, V), e.g. -100) and mean squared error for regression. The scalar loss stays on the GPU in a
 * 1-element tensor, reduced in a fixed order (deterministic); read it back only to log it.
 *
 * @module
 */
import crossentropyCountWgsl from "../../shaders/crossentropy_count.wgsl" with { type: "text" };
import crossentropyForwardWgsl from "../../shaders/crossentropy_forward.wgsl" with { type: "text" };
import crossentropyForwardRowsWgsl from "../../shaders/crossentropy_forward_rows.wgsl" with { type: "text" };
import crossentropyForwardRows4Wgsl from "../../shaders/crossentropy_forward_rows4.wgsl" with {
  type: "text",
};
import crossentropyForwardRows4uWgsl from "../../shaders/crossentropy_forward_rows4u.wgsl" with {
  type: "text",
};
import crossentropyReduceWgsl from "../../shaders/crossentropy_reduce.wgsl" with { type: "text" };
import mseForwardWgsl from "../../shaders/mse_forward.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSize, ShapeError } from "./shapes.ts";
import { blockView, splitRowsOf } from "./split.ts";

/** Invocations per row of the cross-entropy's `workgroup` layout; chosen by `bench/elementwise_bench.ts`. */
const WG = 256;
/** Rows per workgroup of the `invocation` layout (one row per invocation; llvmpipe's SIMD width). */
const ROWS_WG = 8;

/**
 * How the cross-entropy maps rows to the hardware: `workgroup` (one workgroup per row, tree reductions; for
 * GPUs) or `invocation` (one row per invocation, no barriers, vec4 loads where V % 4 = 0 or N * V % 4 = 0; for
 * CPU-emulated adapters such as llvmpipe). Default: `invocation` on a software adapter.
 */
export type CrossEntropyLayout = "workgroup" | "invocation";

const CE_FORWARD: KernelSource = {
  file: "crossentropy_forward.wgsl",
  code: crossentropyForwardWgsl,
  bindings: ["read_write", "read_write", "read", "read", "uniform"],
};

const CE_COUNT: KernelSource = {
  file: "crossentropy_count.wgsl",
  code: crossentropyCountWgsl,
  bindings: ["read_write", "read", "uniform"],
};

const CE_ROWS: KernelSource = {
  file: "crossentropy_forward_rows.wgsl",
  code: crossentropyForwardRowsWgsl,
  bindings: ["read_write", "read_write", "read", "read", "read", "uniform"],
};

const CE_ROWS4: KernelSource = {
  ...CE_ROWS,
  file: "crossentropy_forward_rows4.wgsl",
  code: crossentropyForwardRows4Wgsl,
};

/** Rows that start anywhere within a vec4 (V % 4 != 0): entries `main`, `boundary` and `finish`. */
const CE_ROWS4U: KernelSource = {
  ...CE_ROWS,
  file: "crossentropy_forward_rows4u.wgsl",
  code: crossentropyForwardRows4uWgsl,
};

const CE_REDUCE: KernelSource = {
  file: "crossentropy_reduce.wgsl",
  code: crossentropyReduceWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};

const MSE_FORWARD: KernelSource = {
  file: "mse_forward.wgsl",
  code: mseForwardWgsl,
  bindings: ["read_write", "read_write", "read", "read", "uniform"],
};

/**
 * Prepares the fused cross-entropy over `N` rows of `V` logits: `losses` (N) per row, `loss` (1) their mean
 * over the rows with a valid target (0 when there is none), and `dlogits = (softmax - onehot) / count` (0 for
 * ignored rows), the gradient of `loss`. `targets` is an i32 tensor (N). Two dispatches (three with the
 * `invocation` layout, which parks the count in `loss` until the last one; five there when V % 4 != 0, V >= 5
 * and N * V % 4 = 0, which read the unaligned rows as vec4s), to be recorded in order.
 *
 * @example
 * ```ts
 * import { createTensor, crossEntropyForward, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const logits = await createTensor(gpu, [2, 3], "f32", { data: [1, 2, 3, 0, 0, 0] });
 * const targets = await createTensor(gpu, [2], "i32", { data: [2, -100] });
 * const [loss, losses, dlogits] = [await createTensor(gpu, [1]), await createTensor(gpu, [2]), await createTensor(gpu, [2, 3])];
 * await runDispatches(gpu, await crossEntropyForward(gpu, { loss, losses, dlogits, logits, targets }, { N: 2, V: 3 }));
 * console.log(await readTensor(gpu, loss)); // ~ [0.4076]
 * ```
 */
export async function crossEntropyForward(
  gpu: Gpu,
  t: { loss: Tensor; losses: Tensor; dlogits: Tensor; logits: Tensor; targets: Tensor },
  d: { N: number; V: number; layout?: CrossEntropyLayout },
): Promise<Dispatch[]> {
  const k = "crossEntropyForward";
  assertSize(k, "loss", t.loss, 1, "1");
  assertSize(k, "losses", t.losses, d.N, `N = ${d.N}`);
  assertSize(k, "targets", t.targets, d.N, `N = ${d.N}`);
  assertSize(k, "logits", t.logits, d.N * d.V, `N*V = ${d.N}*${d.V}`);
  assertSize(k, "dlogits", t.dlogits, d.N * d.V, `N*V = ${d.N}*${d.V}`);
  if (t.targets.dtype !== "i32") throw new ShapeError(`${k}: 'targets' must be i32, got ${t.targets.dtype}`);
  if (d.V < 1) throw new ShapeError(`${k}: V must be >= 1, got ${d.V}`);
  const params = new ParamPack().u32(d.N).u32(d.V).bytes();
  const reduce = await gpu.pipelines.get(CE_REDUCE, { WG: 64 });
  const ranges = splitRowsOf(gpu, d.N, [d.V, 1], k);
  if (ranges.length > 1 || (d.layout ?? (gpu.isSoftware ? "invocation" : "workgroup")) === "invocation") {
    // The count over every row parked in `loss`, each row block's losses and gradient (the logits of an LM
    // head above the binding limit come in blocks, on any adapter), then the mean over every row.
    const count = await gpu.pipelines.get(CE_COUNT, { WG: 64 });
    const list = [prepareDispatch(gpu, count, [t.loss, t.targets], params, [1])];
    for (const r of ranges) {
      const [rows, V] = [r.rows, d.V];
      const view = (x: Tensor, w: number) => blockView(gpu, k, x.label, x, r, w);
      list.push(
        ...await invocationRows(
          gpu,
          {
            loss: t.loss,
            losses: view(t.losses, 1),
            dlogits: view(t.dlogits, V),
            logits: view(t.logits, V),
            targets: view(t.targets, 1),
          },
          rows,
          V,
        ),
      );
    }
    list.push(prepareDispatch(gpu, reduce, [t.loss, t.losses, t.targets], params, [1]));
    return list;
  }
  const rows = await gpu.pipelines.get(CE_FORWARD, { WG });
  return [
    prepareDispatch(
      gpu,
      rows,
      [t.losses, t.dlogits, t.logits, t.targets],
      params,
      grid1d(gpu, Math.max(d.N, 1), 1),
    ),
    prepareDispatch(gpu, reduce, [t.loss, t.losses, t.targets], params, [1]),
  ];
}

/**
 * The `invocation` layout's row dispatches over `N` rows (the count already in `loss`): one pass where V % 4 = 0
 * or where the rows cannot be read as vec4s, three where unaligned rows are (crossentropy_forward_rows4u.wgsl).
 */
async function invocationRows(
  gpu: Gpu,
  t: { loss: Tensor; losses: Tensor; dlogits: Tensor; logits: Tensor; targets: Tensor },
  N: number,
  V: number,
): Promise<Dispatch[]> {
  const params = new ParamPack().u32(N).u32(V).bytes();
  const grid = grid1d(gpu, Math.max(N, 1), ROWS_WG);
  const bindings = [t.losses, t.dlogits, t.logits, t.targets, t.loss];
  if (V % 4 !== 0 && V >= 5 && (N * V) % 4 === 0) {
    // Rows not aligned to vec4s: vec4 loads over the matrices taken flat.
    const pass = async (entryPoint: string) =>
      prepareDispatch(
        gpu,
        await gpu.pipelines.get({ ...CE_ROWS4U, entryPoint }, { WG: ROWS_WG }),
        bindings,
        params,
        grid,
      );
    return [await pass("main"), await pass("boundary"), await pass("finish")];
  }
  const rows = await gpu.pipelines.get(V % 4 === 0 ? CE_ROWS4 : CE_ROWS, { WG: ROWS_WG });
  return [prepareDispatch(gpu, rows, bindings, params, grid)];
}

/**
 * Prepares the fused mean squared error of `pred` against `target` (both (N) f32): `loss` (1) =
 * mean (pred - target)^2 (0 when N = 0) and `dpred = 2 (pred - target) / N`.
 */
export async function mseForward(
  gpu: Gpu,
  t: { loss: Tensor; dpred: Tensor; pred: Tensor; target: Tensor },
  d: { N: number },
): Promise<Dispatch> {
  const k = "mseForward";
  assertSize(k, "loss", t.loss, 1, "1");
  for (const name of ["dpred", "pred", "target"] as const) assertSize(k, name, t[name], d.N, `N = ${d.N}`);
  const kernel = await gpu.pipelines.get(MSE_FORWARD, { WG: 64 });
  return prepareDispatch(
    gpu,
    kernel,
    [t.loss, t.dpred, t.pred, t.target],
    new ParamPack().u32(d.N).bytes(),
    [1],
  );
}
