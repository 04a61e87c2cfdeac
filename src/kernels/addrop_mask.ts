/**
 * AD-DROP's additive attention masks (B, NH, T, T): from attribution scores and the per-row thresholds of
 * `selectRank` ({@linkcode addropMask}), or the `random` baseline without scores ({@linkcode addropRandomMask}).
 * Dropped positions get {@linkcode ADDROP_DROP}, everything else 0; padding keys and padding query rows are
 * never dropped (the model's own padding mask handles them). Draws follow src/reference/random.ts with the
 * `rng` buffer `[seed, step]`: purpose `addropMask` (2) for score masks, `randomAttribution` (3) for the
 * random baseline, slot 0, element index `((b * NH + h) * T + i) * T + j`.
 *
 * @module
 */
import addropMaskWgsl from "../../shaders/addrop_mask.wgsl" with { type: "text" };
import addropRandomMaskWgsl from "../../shaders/addrop_random_mask.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { SelectMode } from "./select.ts";
import { assertSize, ShapeError } from "./shapes.ts";
import { rowBinding, splitRows } from "./split.ts";
import { withRandom } from "./random_wgsl.ts";

const WG = 256;

/**
 * The mask value of a dropped position: `exp(-1e9 + x - max)` underflows to exactly 0 in f32 for any kept
 * score, and adding it to Hugging Face's f32-min padding mask stays finite.
 */
export const ADDROP_DROP = -1e9;

const MASK: KernelSource = {
  file: "addrop_mask.wgsl",
  code: withRandom(addropMaskWgsl),
  bindings: ["read_write", "read", "read", "read", "read", "uniform"],
};
const MASK4: KernelSource = { ...MASK, entryPoint: "main4" };
const RANDOM: KernelSource = {
  file: "addrop_random_mask.wgsl",
  code: withRandom(addropRandomMaskWgsl),
  bindings: ["read_write", "read", "read", "uniform"],
};

/** Attention shape: B examples, NH heads, T positions. */
export interface AttentionDims {
  B: number;
  NH: number;
  T: number;
}

/** Options of {@linkcode addropMask}. */
export interface AddropMaskOptions extends AttentionDims {
  /** Drop probability q inside the candidate region, in [0, 1]. */
  q: number;
  /** `high`: candidates are scores >= thr; `low`: scores <= thr (as selectRank was prepared). */
  mode: SelectMode;
  /** Encoder layer index (selects the random stream). */
  layer: number;
}

/** Options of {@linkcode addropRandomMask}. */
export interface AddropRandomMaskOptions extends AttentionDims {
  /** Candidate ratio p and drop rate q: each real position is dropped with probability p * q. */
  p: number;
  q: number;
  layer: number;
}

function checkShapes(k: string, t: { mask: Tensor; lengths: Tensor; rng: Tensor }, d: AttentionDims): void {
  const { B, NH, T } = d;
  assertSize(k, "mask", t.mask, B * NH * T * T, `B*NH*T*T = ${B}*${NH}*${T}*${T}`);
  assertSize(k, "lengths", t.lengths, B, `B = ${B}`);
  assertSize(k, "rng", t.rng, 2, "[seed, step]");
  if (t.lengths.dtype !== "u32") {
    throw new ShapeError(`${k}: 'lengths' has dtype ${t.lengths.dtype}, expected u32`);
  }
}

function checkProb(k: string, name: string, x: number): void {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`${k}: ${name} = ${x} must be in [0, 1]`);
}

/**
 * Prepares the AD-DROP mask (B, NH, T, T) from `scores` (B, NH, T, T), `thr` (B*NH*T, from selectRank with
 * the same mode), `lengths` (u32, B) and `rng` (u32, [seed, step]).
 *
 * @example
 * ```ts
 * import { addropMask, createTensor, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const scores = await createTensor(gpu, [1, 1, 2, 2], "f32", { data: [0.9, 0.1, 0.2, 0.8] });
 * const thr = await createTensor(gpu, [2], "f32", { data: [0.9, 0.8] });
 * const lengths = await createTensor(gpu, [1], "u32", { data: [2] });
 * const rng = await createTensor(gpu, [2], "u32", { data: [42, 1] });
 * const mask = await createTensor(gpu, [1, 1, 2, 2]);
 * const opts = { B: 1, NH: 1, T: 2, q: 1, mode: "high", layer: 0 } as const;
 * await runDispatches(gpu, await addropMask(gpu, { mask, scores, thr, lengths, rng }, opts));
 * console.log(await readTensor(gpu, mask)); // Float32Array [-1e9, 0, 0, -1e9]
 * ```
 */
export async function addropMask(
  gpu: Gpu,
  t: { mask: Tensor; scores: Tensor; thr: Tensor; lengths: Tensor; rng: Tensor },
  o: AddropMaskOptions,
): Promise<Dispatch[]> {
  const k = "addropMask";
  const { B, NH, T } = o;
  checkShapes(k, t, o);
  assertSize(k, "scores", t.scores, B * NH * T * T, `B*NH*T*T = ${B}*${NH}*${T}*${T}`);
  assertSize(k, "thr", t.thr, B * NH * T, `B*NH*T = ${B}*${NH}*${T}`);
  checkProb(k, "q", o.q);
  // vec4 entry where rows are whole vec4s (T % 4 = 0) and both tensors start on one.
  const vec4 = T % 4 === 0 && [t.mask, t.scores].every((x) => x.byteOffset % 16 === 0);
  const kernel = await gpu.pipelines.get(vec4 ? MASK4 : MASK, { WG });
  return splitRows(gpu, B * NH * T, T, k).filter((r) => r.rows > 0).map((r) => {
    const params = new ParamPack().u32(T).u32(NH).u32(r.rows).u32(r.first).f32(o.q)
      .u32(o.mode === "low" ? 1 : 0).u32(o.layer).bytes();
    const bindings = [rowBinding(t.mask, r, T), rowBinding(t.scores, r, T), t.thr, t.lengths, t.rng];
    return prepareDispatch(gpu, kernel, bindings, params, grid1d(gpu, (r.rows * T) / (vec4 ? 4 : 1), WG));
  });
}

/**
 * Prepares the `random` baseline mask (B, NH, T, T): every real position (query and key not padding) dropped
 * independently with probability `p * q` (rounded to f32).
 */
export async function addropRandomMask(
  gpu: Gpu,
  t: { mask: Tensor; lengths: Tensor; rng: Tensor },
  o: AddropRandomMaskOptions,
): Promise<Dispatch[]> {
  const k = "addropRandomMask";
  const { B, NH, T } = o;
  checkShapes(k, t, o);
  checkProb(k, "p", o.p);
  checkProb(k, "q", o.q);
  const kernel = await gpu.pipelines.get(RANDOM, { WG });
  return splitRows(gpu, B * NH * T, T, k).filter((r) => r.rows > 0).map((r) => {
    const params = new ParamPack().u32(T).u32(NH).u32(r.rows).u32(r.first).f32(o.p * o.q).u32(o.layer)
      .bytes();
    return prepareDispatch(
      gpu,
      kernel,
      [rowBinding(t.mask, r, T), t.lengths, t.rng],
      params,
      grid1d(gpu, r.rows * T, WG),
    );
  });
}
