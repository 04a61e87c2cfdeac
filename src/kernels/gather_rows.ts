/**
 * Gathering a list of rows (the masked positions a masked-language-model head predicts) and its backward, the
 * scatter back into a zero-filled (N, C) gradient.
 *
 * Dimensions: P gathered rows, N rows in all, C channels.
 *
 * @module
 */
import forwardWgsl from "../../shaders/gather_rows_forward.wgsl" with { type: "text" };
import backwardWgsl from "../../shaders/gather_rows_backward.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSize } from "./shapes.ts";

const WG = 256;
const FORWARD: KernelSource = {
  file: "gather_rows_forward.wgsl",
  code: forwardWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};
const BACKWARD: KernelSource = {
  file: "gather_rows_backward.wgsl",
  code: backwardWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};

/** The slot value of a row that is not gathered. */
export const NOT_GATHERED = 0xffffffff;

/** Dimensions: P gathered rows out of N rows of C channels. */
export interface GatherRowsDims {
  P: number;
  N: number;
  C: number;
}

function params(d: GatherRowsDims): ArrayBuffer {
  return new ParamPack().u32(d.P).u32(d.N).u32(d.C).bytes();
}

/**
 * Prepares `out (P, C) = inp[rows]` for `inp (N, C)` and a u32 row list `rows (P)` (each < N).
 *
 * @example
 * ```ts
 * import { createTensor, gatherRowsForward, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const inp = await createTensor(gpu, [3, 2], "f32", { data: [1, 2, 3, 4, 5, 6] });
 * const rows = await createTensor(gpu, [2], "u32", { data: [2, 0] });
 * const out = await createTensor(gpu, [2, 2]);
 * await runDispatches(gpu, [await gatherRowsForward(gpu, { out, inp, rows }, { P: 2, N: 3, C: 2 })]);
 * console.log(await readTensor(gpu, out)); // Float32Array [5, 6, 1, 2]
 * ```
 */
export async function gatherRowsForward(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor; rows: Tensor },
  d: GatherRowsDims,
): Promise<Dispatch> {
  const k = "gatherRowsForward";
  assertSize(k, "out", t.out, d.P * d.C, `P*C = ${d.P}*${d.C}`);
  assertSize(k, "inp", t.inp, d.N * d.C, `N*C = ${d.N}*${d.C}`);
  assertSize(k, "rows", t.rows, d.P, `P = ${d.P}`);
  const kernel = await gpu.pipelines.get(FORWARD, { WG });
  return prepareDispatch(gpu, kernel, [t.out, t.inp, t.rows], params(d), grid1d(gpu, d.P * d.C, WG));
}

/**
 * Prepares `dinp (N, C) = dout[slot[n]]` where `slot[n] < P` and 0 elsewhere (written, not accumulated);
 * `slot (N)` is the inverse of the forward's row list ({@linkcode NOT_GATHERED} for rows not gathered).
 */
export async function gatherRowsBackward(
  gpu: Gpu,
  t: { dinp: Tensor; dout: Tensor; slot: Tensor },
  d: GatherRowsDims,
): Promise<Dispatch> {
  const k = "gatherRowsBackward";
  assertSize(k, "dinp", t.dinp, d.N * d.C, `N*C = ${d.N}*${d.C}`);
  assertSize(k, "dout", t.dout, d.P * d.C, `P*C = ${d.P}*${d.C}`);
  assertSize(k, "slot", t.slot, d.N, `N = ${d.N}`);
  const kernel = await gpu.pipelines.get(BACKWARD, { WG });
  return prepareDispatch(gpu, kernel, [t.dinp, t.dout, t.slot], params(d), grid1d(gpu, d.N * d.C, WG));
}
