/**
 * The dispatches of one chunk of examples of the attention forward and backward (used by `attention.ts`, which
 * checks shapes and plans the chunks): three for the forward, five for the backward. With a whole plan the
 * chunk is the batch and every binding the tensor itself.
 *
 * @module
 */
import forwardWgsl from "../../shaders/attention_probs_forward.wgsl" with { type: "text" };
import backwardWgsl from "../../shaders/attention_probs_backward.wgsl" with { type: "text" };
import forwardVec4Wgsl from "../../shaders/attention_probs_forward_vec4.wgsl" with { type: "text" };
import backwardVec4Wgsl from "../../shaders/attention_probs_backward_vec4.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, type Grid, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { Access, Kernel, KernelSource } from "../gpu/pipeline.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import type { AttentionDims } from "./attention.ts";
import {
  type ChunkPlan,
  type ChunkView,
  chunkView,
  type ExampleChunk,
  type PerExample,
} from "./attention_chunks.ts";
import {
  batchedProduct,
  type ProductTextures,
  qkvPart,
  square,
  type Strided,
  textureCopies,
  texturedChunk,
  uses,
} from "./attention_matmul.ts";
import { withRandom } from "./random_wgsl.ts";
import { rowLanes, withRowLanes } from "./row_lanes.ts";

const FORWARD_BINDINGS: readonly Access[] = [
  "read_write",
  "read_write",
  "read",
  "read",
  "read",
  "read",
  "uniform",
];
const BACKWARD_BINDINGS: readonly Access[] = [
  "read_write",
  "read_write",
  "read_write",
  "read",
  "read",
  "read",
  "uniform",
];
/**
 * The row passes: scalar, and where T and every offset are multiples of 4, vec4 with one row per invocation
 * (software adapters) or with `lanes` invocations sharing a row (GPUs, so that a warp reads consecutive vec4s).
 */
const FORWARD_VEC4: KernelSource = {
  file: "attention_probs_forward_vec4.wgsl",
  code: withRandom(withRowLanes(forwardVec4Wgsl)),
  bindings: FORWARD_BINDINGS,
};
const BACKWARD_VEC4: KernelSource = {
  file: "attention_probs_backward_vec4.wgsl",
  code: withRandom(withRowLanes(backwardVec4Wgsl)),
  bindings: BACKWARD_BINDINGS,
};
const ROWS = {
  forward: {
    scalar: {
      file: "attention_probs_forward.wgsl",
      code: withRandom(forwardWgsl),
      bindings: FORWARD_BINDINGS,
    },
    vec4: FORWARD_VEC4,
    lanes: { ...FORWARD_VEC4, entryPoint: "lanes" },
  },
  backward: {
    scalar: {
      file: "attention_probs_backward.wgsl",
      code: withRandom(backwardWgsl),
      bindings: BACKWARD_BINDINGS,
    },
    vec4: BACKWARD_VEC4,
    lanes: { ...BACKWARD_VEC4, entryPoint: "lanes" },
  },
} satisfies Record<string, Record<string, KernelSource>>;

/**
 * The row pass's kernel and grid over `rows` rows: vec4 unless `d.scalar`, T or an element offset is not a
 * multiple of 4, and then one row per invocation or `rowLanes(T)` invocations per row by `d.rowLayout` (default:
 * `invocation` on a software adapter, else `lanes`); `flags`: the forward's HAS_ADD and WRITE_DROPPED, 0 or 1.
 */
async function rowKernel(
  gpu: Gpu,
  d: AttentionDims,
  pass: "forward" | "backward",
  rows: number,
  offsets: number[],
  flags: Record<string, number> = {},
): Promise<{ kernel: Kernel; grid: Grid }> {
  const vec4 = !d.scalar && [d.T, ...offsets].every((x) => x % 4 === 0);
  const lanes = vec4 && (d.rowLayout ?? (gpu.isSoftware ? "invocation" : "lanes")) === "lanes";
  if (!lanes) {
    const kernel = await gpu.pipelines.get(ROWS[pass][vec4 ? "vec4" : "scalar"], { WG, ...flags });
    return { kernel, grid: grid1d(gpu, rows, WG) };
  }
  const LANES = rowLanes(d.T);
  const kernel = await gpu.pipelines.get(ROWS[pass].lanes, { WG, LANES, ...flags });
  return { kernel, grid: grid1d(gpu, rows, WG / LANES) };
}
const WG = 64;

/** Per-example tensors of the forward (null: not used). */
export type ForwardParts = Record<
  "out" | "probs" | "qkv" | "keyMask" | "addMask" | "alpha" | "scratch",
  PerExample | null
>;
/** Per-example tensors of the backward; `work` / `dS` are the two halves of the scratch. */
export type BackwardParts = Record<
  "dqkv" | "dprobs" | "dout" | "qkv" | "probs" | "alpha" | "work" | "dS",
  PerExample | null
>;

const dummies = new WeakMap<Gpu, Promise<Tensor>>();
/** A 4-element tensor bound where a read-write binding is unused (its writes are skipped). */
function dummy(gpu: Gpu): Promise<Tensor> {
  let t = dummies.get(gpu);
  if (!t) {
    t = createTensor(gpu, [4], "f32", { label: "attention dummy" });
    dummies.set(gpu, t);
  }
  return t;
}

/** The views of chunk `c` (unused parts stay null). */
function views<K extends string>(parts: Record<K, PerExample | null>, plan: ChunkPlan, c: ExampleChunk) {
  const out = {} as Record<K, ChunkView | null>;
  for (const key in parts) {
    const p = parts[key];
    out[key] = p ? chunkView(p, c, plan) : null;
  }
  return out;
}

/** Part `part` (0 query, 1 key, 2 value) of a chunk's qkv view. */
function qkvAt(v: ChunkView, part: number, d: AttentionDims, transposed: boolean): Strided {
  const s = qkvPart(v.tensor, part, d, transposed);
  return { ...s, off: s.off + v.off };
}

/** Forward of examples c.b0 .. c.b0 + c.nb - 1: S into probs, the row pass, out = P' V. */
export async function forwardChunk(
  gpu: Gpu,
  d: AttentionDims,
  parts: ForwardParts,
  rng: Tensor,
  plan: ChunkPlan,
  c: ExampleChunk,
): Promise<Dispatch[]> {
  const { T, C, NH } = d;
  const hs = C / NH;
  const v = views(parts, plan, c);
  const [qkv, probs, keyMask, out] = [v.qkv!, v.probs!, v.keyMask!, v.out!];
  const weights = v.scratch ?? probs;
  // On software adapters the products read textures: qkv is copied once for both, P' before its product.
  const offsets = [qkv.off, probs.off, weights.off, out.off];
  const tex = texturedChunk(gpu, d, offsets)
    ? textureCopies(gpu, { qkv: { v: qkv, n: c.nb * T * 3 * C }, p: { v: weights, n: c.nb * NH * T * T } })
    : null;
  const scores = await batchedProduct(gpu, {
    M: T,
    N: T,
    K: hs,
    B: c.nb,
    NH,
    scale: 1 / Math.sqrt(hs),
    a: qkvAt(qkv, 0, d, false),
    b: qkvAt(qkv, 1, d, true),
    c: square(probs.tensor, d, probs.off),
    textures: tex ? uses(tex.qkv, tex.qkv, tex.qkv) : undefined,
  }, d);
  const rows = c.nb * NH * T;
  const params = new ParamPack().u32(rows).u32(T).u32(NH).u32(v.alpha ? 1 : 0)
    .f32(d.pDrop).f32(1 / (1 - d.pDrop))
    .u32(d.layer).u32(d.slot ?? 0).u32(c.b0 * NH * T).u32(c.b0)
    .u32(probs.off).u32(v.scratch?.off ?? 0).u32(v.addMask?.off ?? 0).u32(keyMask.off)
    .u32(v.alpha?.off ?? 0).bytes();
  const fk = await rowKernel(
    gpu,
    d,
    "forward",
    rows,
    [probs.off, v.scratch?.off ?? 0, v.addMask?.off ?? 0, keyMask.off],
    { HAS_ADD: v.addMask ? 1 : 0, WRITE_DROPPED: v.scratch ? 1 : 0 },
  );
  const rowPass = prepareDispatch(
    gpu,
    fk.kernel,
    [
      probs.tensor,
      v.scratch?.tensor ?? await dummy(gpu),
      keyMask.tensor,
      v.addMask?.tensor ?? keyMask.tensor,
      v.alpha?.tensor ?? keyMask.tensor,
      rng,
    ],
    params,
    fk.grid,
  );
  const apply = await batchedProduct(gpu, {
    M: T,
    N: hs,
    K: T,
    B: c.nb,
    NH,
    scale: 1,
    a: square(weights.tensor, d, weights.off),
    b: qkvAt(qkv, 2, d, false),
    c: { tensor: out.tensor, off: out.off, bs: T * C, hs, rs: C },
    textures: tex ? uses(tex.p, tex.qkv, tex.p) : undefined,
  }, d);
  return [scores, rowPass, apply];
}

/**
 * Backward of examples c.b0 .. c.b0 + c.nb - 1: dP' = dout V^T, the row pass, then (unless `dprobsOnly`) dV,
 * dQ, dK (written, =).
 */
export async function backwardChunk(
  gpu: Gpu,
  d: AttentionDims,
  parts: BackwardParts,
  rng: Tensor,
  plan: ChunkPlan,
  c: ExampleChunk,
  dprobsOnly = false,
): Promise<Dispatch[]> {
  const { T, C, NH } = d;
  const hs = C / NH;
  const v = views(parts, plan, c);
  const [dqkv, dout, qkv, probs, work, dS] = [v.dqkv!, v.dout!, v.qkv!, v.probs!, v.work!, v.dS!];
  const doutAt = (transposed: boolean): Strided => ({
    tensor: dout.tensor,
    off: dout.off,
    bs: T * C,
    hs,
    rs: transposed ? 1 : C,
    cs: transposed ? C : 1,
  });
  const dqkvAt = (part: number) => ({
    tensor: dqkv.tensor,
    off: dqkv.off + part * C,
    bs: T * 3 * C,
    hs,
    rs: 3 * C,
  });
  // On software adapters the products read textures: qkv and dout copied before dP, P' (work, written by the
  // row pass) before dV, dS before dQ (dK reads it again).
  const tex = texturedChunk(gpu, d, [dqkv.off, dout.off, qkv.off, work.off, dS.off])
    ? textureCopies(gpu, {
      qkv: { v: qkv, n: c.nb * T * 3 * C },
      x: { v: dout, n: c.nb * T * C },
      p: { v: work, n: c.nb * NH * T * T },
      s: { v: dS, n: c.nb * NH * T * T },
    })
    : null;
  const dP = await batchedProduct(gpu, {
    M: T,
    N: T,
    K: hs,
    B: c.nb,
    NH,
    scale: 1,
    a: doutAt(false),
    b: qkvAt(qkv, 2, d, true),
    c: square(work.tensor, d, work.off),
    textures: tex ? uses(tex.x, tex.qkv, tex.x, tex.qkv) : undefined,
  }, d);
  const rows = c.nb * NH * T;
  const params = new ParamPack().u32(rows).u32(T).u32(NH).u32(v.alpha ? 1 : 0)
    .u32(v.dprobs ? 1 : 0).f32(d.pDrop).f32(1 / (1 - d.pDrop)).u32(d.layer)
    .u32(d.slot ?? 0).u32(c.b0 * NH * T).u32(c.b0).u32(work.off)
    .u32(dS.off).u32(v.dprobs?.off ?? 0).u32(probs.off).u32(v.alpha?.off ?? 0).bytes();
  const bk = await rowKernel(gpu, d, "backward", rows, [work.off, dS.off, v.dprobs?.off ?? 0, probs.off]);
  const rowPass = prepareDispatch(
    gpu,
    bk.kernel,
    [
      work.tensor,
      dS.tensor,
      v.dprobs?.tensor ?? await dummy(gpu),
      probs.tensor,
      v.alpha?.tensor ?? probs.tensor,
      rng,
    ],
    params,
    bk.grid,
  );
  if (dprobsOnly) return [dP, rowPass];
  const scale = 1 / Math.sqrt(hs);
  const product = (a: Strided, b: Strided, part: number, s: number, textures?: ProductTextures) =>
    batchedProduct(gpu, { M: T, N: hs, K: T, B: c.nb, NH, scale: s, a, b, c: dqkvAt(part), textures }, d);
  const dV = await product(
    square(work.tensor, d, work.off, true),
    doutAt(false),
    2,
    1,
    tex ? uses(tex.p, tex.x, tex.p) : undefined,
  );
  const dQ = await product(
    square(dS.tensor, d, dS.off, false),
    qkvAt(qkv, 1, d, false),
    0,
    scale,
    tex ? uses(tex.s, tex.qkv, tex.s) : undefined,
  );
  const dK = await product(
    square(dS.tensor, d, dS.off, true),
    qkvAt(qkv, 0, d, false),
    1,
    scale,
    tex ? uses(tex.s, tex.qkv) : undefined,
  );
  return [dP, rowPass, dV, dQ, dK];
}
