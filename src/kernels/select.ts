/**
 * AD-DROP's candidate-region selection: per attention row, the threshold score at a given rank among the row's
 * real (non-padding) keys, exact with ties (see shaders/select_rank.wgsl for the definition).
 *
 * Row lengths: `n[r] = lengths[floor(r / rowsPerExample)]` (clamped to L). For AD-DROP scores (B, NH, T, T),
 * pass the per-example lengths (B) and `rowsPerExample = NH * T`; for one length per row pass an (R) buffer and
 * `rowsPerExample = 1`.
 *
 * @module
 */
import selectRankWgsl from "../../shaders/select_rank.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSize, ShapeError } from "./shapes.ts";
import { rowBinding, splitRows } from "./split.ts";

/** Largest row length {@linkcode selectRank} handles. */
export const SELECT_MAX_L = 512;

const SELECT: KernelSource = {
  file: "select_rank.wgsl",
  code: selectRankWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};
const SELECT_ROWS: KernelSource = { ...SELECT, entryPoint: "main_rows" };
const ROWS_WG = 8;

/** Which end of the sorted row is the candidate region. */
export type SelectMode = "high" | "low";

/** Dimensions and options of {@linkcode selectRank}. */
export interface SelectOptions {
  /** Rows. */
  R: number;
  /** Row length (keys), at most {@linkcode SELECT_MAX_L}. */
  L: number;
  /** Consecutive rows sharing one entry of `lengths` (NH * T for AD-DROP scores, 1 for per-row lengths). */
  rowsPerExample: number;
  /** Candidate discard ratio p in [0, 1]. */
  p: number;
  /**
   * `high`: `thr = sorted[floor((1 - p) * n)]`, candidates are scores >= thr (+inf: none).
   * `low`: `thr = sorted[ceil(p * n) - 1]`, candidates are scores <= thr (-inf: none). Both rank expressions
   * are evaluated in f32 (`Math.fround` on the CPU side).
   */
  mode: SelectMode;
  /**
   * `workgroup`: one workgroup per row counting in workgroup memory (hardware GPUs); `invocation`: one
   * invocation per row, a 32-step search on the keys (software adapters). Default: by adapter; tests run both.
   */
  layout?: "workgroup" | "invocation";
}

/**
 * Prepares the per-row thresholds `thr` (R) of `scores` (R, L) given `lengths` (u32, R / rowsPerExample).
 * One workgroup or one invocation per row (`o.layout`); rows are split into aligned ranges when `scores` exceeds
 * the binding limit.
 *
 * @example
 * ```ts
 * import { createTensor, readTensor, requestGpu, runDispatches, selectRank } from "./mod.ts";
 * const gpu = await requestGpu();
 * const scores = await createTensor(gpu, [1, 4], "f32", { data: [0.4, 0.1, 0.3, 0.2] });
 * const lengths = await createTensor(gpu, [1], "u32", { data: [4] });
 * const thr = await createTensor(gpu, [1]);
 * const opts = { R: 1, L: 4, rowsPerExample: 1, p: 0.5, mode: "high" } as const;
 * await runDispatches(gpu, await selectRank(gpu, { thr, scores, lengths }, opts));
 * console.log(await readTensor(gpu, thr)); // Float32Array [0.3]: 0.3 and 0.4 are candidates
 * ```
 */
export async function selectRank(
  gpu: Gpu,
  t: { thr: Tensor; scores: Tensor; lengths: Tensor },
  o: SelectOptions,
): Promise<Dispatch[]> {
  const k = "selectRank";
  checkSelect(k, o);
  assertSize(k, "thr", t.thr, o.R, `R = ${o.R}`);
  assertSize(k, "scores", t.scores, o.R * o.L, `R*L = ${o.R}*${o.L}`);
  assertSize(k, "lengths", t.lengths, Math.ceil(o.R / o.rowsPerExample), `R / rowsPerExample`);
  if (t.lengths.dtype !== "u32") {
    throw new ShapeError(`${k}: 'lengths' has dtype ${t.lengths.dtype}, expected u32`);
  }
  const perRow = (o.layout ?? (gpu.isSoftware ? "invocation" : "workgroup")) === "invocation";
  // Workgroup layout: one invocation per 4 entries of a row (at least 32 per workgroup).
  const WG = Math.max(32, 2 ** Math.ceil(Math.log2(Math.ceil(o.L / 4))));
  const kernel = perRow
    ? await gpu.pipelines.get(SELECT_ROWS, { WG })
    : await gpu.pipelines.get(SELECT, { WG });
  return splitRows(gpu, o.R, o.L, k).filter((r) => r.rows > 0).map((r) => {
    const params = new ParamPack().u32(o.L).u32(r.rows).u32(r.first).u32(o.rowsPerExample).f32(o.p)
      .u32(o.mode === "low" ? 1 : 0).bytes();
    const bindings = [t.thr, rowBinding(t.scores, r, o.L), t.lengths];
    return prepareDispatch(
      gpu,
      kernel,
      bindings,
      params,
      perRow ? grid1d(gpu, r.rows, ROWS_WG) : grid1d(gpu, r.rows, 1),
    );
  });
}

function checkSelect(k: string, o: SelectOptions): void {
  if (!(o.L >= 1 && o.L <= SELECT_MAX_L)) {
    throw new ShapeError(`${k}: L = ${o.L} must be in 1..${SELECT_MAX_L}`);
  }
  if (!(o.rowsPerExample >= 1) || !Number.isInteger(o.rowsPerExample)) {
    throw new ShapeError(`${k}: rowsPerExample = ${o.rowsPerExample} must be an integer >= 1`);
  }
  if (!(o.p >= 0 && o.p <= 1)) throw new RangeError(`${k}: p = ${o.p} must be in [0, 1]`);
  if (o.mode !== "high" && o.mode !== "low") {
    throw new RangeError(`${k}: mode '${o.mode}' must be high or low`);
  }
}
