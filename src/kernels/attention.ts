/**
 * Self-attention forward and backward (Hugging Face BERT eager attention) from the fused QKV projection.
 *
 * Legend: B examples, T tokens, C channels, NH heads, hs = C / NH. `qkv` (B, T, 3C): columns [0, C) query,
 * [C, 2C) key, [2C, 3C) value; head h uses columns h*hs..(h+1)*hs of each.
 *
 * Forward: S = Q K^T / sqrt(hs) + keyMask (B, T) + addMask (B, NH, T, T, optional); a key whose total additive
 * mask is <= -1e30 (e.g. f32 min, HF's `(1 - mask) * finfo.min`; also f32 min + f32 min = -inf) gets exactly
 * zero weight, and a row whose every key is masked gives probabilities all 0 (HF would give uniform weights or
 * NaN there); smaller penalties such as -10000 act additively, exactly as in HF. `probs` = A = softmax(S),
 * saved (B, NH, T, T) before alpha and dropout. P' = alpha[b] * A * keep / (1 - pDrop) and out (B, T, C) = P' V
 * with heads merged. `keep` is drawn by the generator of `src/reference/random.ts` from the `rng` buffer
 * `[seed, step]` with stream (step, layer, purpose 1 = attention dropout, slot) and element index the flat
 * (b, h, i, j) index of probs; the backward redraws it (it is never stored).
 *
 * Backward from dout (B, T, C): `dqkv` (B, T, 3C) written (=); `dprobs` (B, NH, T, T, optional) =
 * dLoss/d(alpha * A), the gradient with respect to the scaled, pre-dropout probabilities (the quantity
 * integrated gradients integrates; dLoss/dA when alpha is null), i.e. dprobs = (dout V^T) * keep / (1 - pDrop).
 *
 * Tensors larger than `gpu.maxBindingBytes` are bound in chunks of whole examples, each chunk with its own
 * dispatches (see `attention_chunks.ts`); results and dropout draws are bit-identical to the unsplit run, and
 * when everything fits there is one chunk binding the tensors whole. One example larger than the limit throws.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Dispatch } from "../gpu/encoder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { planExampleChunks } from "./attention_chunks.ts";
import { backwardChunk, type BackwardParts, forwardChunk, type ForwardParts } from "./attention_passes.ts";
import { assertSize, ShapeError } from "./shapes.ts";

/** Dimensions and options of {@linkcode attentionForward} / {@linkcode attentionBackward}. */
export interface AttentionDims {
  B: number;
  T: number;
  C: number;
  NH: number;
  /** Attention-dropout probability in [0, 1). */
  pDrop: number;
  /** Encoder layer index (selects the random stream). */
  layer: number;
  /** Random-stream slot (default 0). */
  slot?: number;
  /** Use the scalar matrix-product and row kernels even where the vec4 ones apply (tests). */
  scalar?: boolean;
  /**
   * The matrix products through the hardware GPUs' tiled kernel (matmul_tiled.wgsl); default: on a hardware
   * adapter unless one of the options below is given.
   */
  tiled?: boolean;
  /** Workgroup shape of the matrix products (default: by adapter; tests run both). */
  tiling?: "software" | "hardware";
  /**
   * Register block of the vec4 matrix products: 4 x 4, 8 x 8 or 32 rows (32 x 32 from textures, 32 x 16 from
   * storage buffers); default 32 on software adapters, else 8; tests run all three.
   */
  block?: 4 | 8 | 32;
  /**
   * With the 32-row block: products read their operands from texture copies (default: on a software adapter;
   * tests run both).
   */
  textures?: boolean;
  /**
   * Layout of the vec4 row passes (softmax, dropout and their backward; T % 4 = 0): `invocation`, one row per
   * invocation (default on a software adapter), or `lanes`, up to 32 invocations per row (default on GPUs,
   * where neighbouring invocations then read neighbouring vec4s); tests run both.
   */
  rowLayout?: "invocation" | "lanes";
}

/** Tensors of {@linkcode attentionForward}. */
export interface AttentionForwardTensors {
  out: Tensor;
  probs: Tensor;
  qkv: Tensor;
  keyMask: Tensor;
  addMask: Tensor | null;
  alpha: Tensor | null;
  /** u32 `[seed, step]`. */
  rng: Tensor;
  /** (B, NH, T, T) scratch for P' = alpha * A * keep / (1 - pDrop); required when pDrop > 0 or alpha is set. */
  scratch?: Tensor | null;
}

/** Tensors of {@linkcode attentionBackward}. */
export interface AttentionBackwardTensors {
  dqkv: Tensor;
  dprobs: Tensor | null;
  dout: Tensor;
  qkv: Tensor;
  probs: Tensor;
  /** Shape-checked only: masked keys have A = 0, so the backward needs no mask. */
  keyMask: Tensor;
  /** Shape-checked only, as keyMask. */
  addMask: Tensor | null;
  alpha: Tensor | null;
  rng: Tensor;
  /** (2, B, NH, T, T) scratch, see {@linkcode attentionScratchShape}. */
  scratch: Tensor;
}

/** Shape of the scratch tensor a pass needs (forward: null when neither dropout nor alpha is used). */
export function attentionScratchShape(
  d: AttentionDims,
  pass: "forward" | "backward",
  hasAlpha = false,
): number[] | null {
  if (pass === "backward") return [2, d.B, d.NH, d.T, d.T];
  return d.pDrop > 0 || hasAlpha ? [d.B, d.NH, d.T, d.T] : null;
}

function check(kernel: string, d: AttentionDims, t: Record<string, Tensor | null | undefined>): void {
  const { B, T, C, NH } = d;
  if (!(C % NH === 0 && C > 0)) throw new ShapeError(`${kernel}: C = ${C} is not a multiple of NH = ${NH}`);
  if (!(d.pDrop >= 0 && d.pDrop < 1)) throw new RangeError(`${kernel}: pDrop = ${d.pDrop} is not in [0, 1)`);
  const sizes: Record<string, [number, string]> = {
    out: [B * T * C, "B*T*C"],
    dout: [B * T * C, "B*T*C"],
    qkv: [B * T * 3 * C, "B*T*3C"],
    dqkv: [B * T * 3 * C, "B*T*3C"],
    probs: [B * NH * T * T, "B*NH*T*T"],
    dprobs: [B * NH * T * T, "B*NH*T*T"],
    addMask: [B * NH * T * T, "B*NH*T*T"],
    keyMask: [B * T, "B*T"],
    alpha: [B, "B"],
    rng: [2, "[seed, step]"],
  };
  for (const [name, tensor] of Object.entries(t)) {
    const s = sizes[name];
    if (tensor && s) assertSize(kernel, name, tensor, s[0], `${s[1]} = ${s[0]}`);
  }
}

/**
 * Prepares the attention forward: S into `probs`, softmax/mask/dropout rows, out = P' V.
 *
 * @example
 * ```ts
 * import { attentionForward, createTensor, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const [B, T, C, NH] = [1, 2, 4, 2];
 * const qkv = await createTensor(gpu, [B, T, 3 * C], "f32", { data: Array.from({ length: 24 }, (_, i) => i / 24) });
 * const keyMask = await createTensor(gpu, [B, T]);
 * const rng = await createTensor(gpu, [2], "u32", { data: [1, 0] });
 * const out = await createTensor(gpu, [B, T, C]);
 * const probs = await createTensor(gpu, [B, NH, T, T]);
 * const d = { B, T, C, NH, pDrop: 0, layer: 0 };
 * await runDispatches(gpu, await attentionForward(gpu, { out, probs, qkv, keyMask, addMask: null, alpha: null, rng }, d));
 * console.log(await readTensor(gpu, probs));
 * ```
 */
export async function attentionForward(
  gpu: Gpu,
  t: AttentionForwardTensors,
  d: AttentionDims,
): Promise<Dispatch[]> {
  const k = "attentionForward";
  check(k, d, { out: t.out, probs: t.probs, qkv: t.qkv, keyMask: t.keyMask, addMask: t.addMask });
  check(k, d, { alpha: t.alpha, rng: t.rng });
  const { B, T, C, NH } = d;
  const needScratch = d.pDrop > 0 || t.alpha !== null;
  if (needScratch) {
    if (!t.scratch) throw new ShapeError(`${k}: 'scratch' (B, NH, T, T) is required when pDrop > 0 or alpha`);
    assertSize(k, "scratch", t.scratch, B * NH * T * T, "B*NH*T*T");
  }
  const sq = NH * T * T;
  const parts: ForwardParts = {
    out: { tensor: t.out, E: T * C },
    probs: { tensor: t.probs, E: sq },
    qkv: { tensor: t.qkv, E: T * 3 * C },
    keyMask: { tensor: t.keyMask, E: T },
    addMask: t.addMask ? { tensor: t.addMask, E: sq } : null,
    alpha: t.alpha ? { tensor: t.alpha, E: 1 } : null,
    scratch: needScratch ? { tensor: t.scratch!, E: sq } : null,
  };
  const plan = planExampleChunks(gpu, k, B, parts);
  const list: Dispatch[] = [];
  for (const c of plan.chunks) list.push(...await forwardChunk(gpu, d, parts, t.rng, plan, c));
  return list;
}

/**
 * Prepares the attention backward: dP' = dout V^T, the row pass (dprobs, dS, P'), dV = P'^T dout,
 * dQ = dS K / sqrt(hs), dK = dS^T Q / sqrt(hs); `dqkv` is written (=). With `o.dprobsOnly` only the first two
 * run (AD-DROP's attribution at the lowest layer it reaches needs dprobs and nothing below): `dqkv` is left
 * untouched.
 */
export async function attentionBackward(
  gpu: Gpu,
  t: AttentionBackwardTensors,
  d: AttentionDims,
  o: { dprobsOnly?: boolean } = {},
): Promise<Dispatch[]> {
  const k = "attentionBackward";
  check(k, d, { dqkv: t.dqkv, dprobs: t.dprobs, dout: t.dout, qkv: t.qkv, probs: t.probs });
  check(k, d, { keyMask: t.keyMask, addMask: t.addMask, alpha: t.alpha, rng: t.rng });
  if (o.dprobsOnly && !t.dprobs) throw new RangeError(`${k}: dprobsOnly needs a dprobs tensor`);
  const { B, T, C, NH } = d;
  const n = B * NH * T * T;
  assertSize(k, "scratch", t.scratch, 2 * n, "2*B*NH*T*T");
  const sq = NH * T * T;
  const parts: BackwardParts = {
    dqkv: { tensor: t.dqkv, E: T * 3 * C },
    dprobs: t.dprobs ? { tensor: t.dprobs, E: sq } : null,
    dout: { tensor: t.dout, E: T * C },
    qkv: { tensor: t.qkv, E: T * 3 * C },
    probs: { tensor: t.probs, E: sq },
    alpha: t.alpha ? { tensor: t.alpha, E: 1 } : null,
    work: { tensor: t.scratch, E: sq },
    dS: { tensor: t.scratch, E: sq, start: n },
  };
  const plan = planExampleChunks(gpu, k, B, parts);
  const list: Dispatch[] = [];
  for (const c of plan.chunks) {
    list.push(...await backwardChunk(gpu, d, parts, t.rng, plan, c, o.dprobsOnly ?? false));
  }
  return list;
}
