/**
 * The batched, strided matrix products inside self-attention (used by `attention.ts`): one kernel for the six
 * products of the forward and backward, the vec4 variant where every offset and stride allows it; on software
 * adapters the 32-row block (32 x 32) reading its operands from texture copies that the products of a pass share.
 *
 * @module
 */
import scalarWgsl from "../../shaders/attention_matmul.wgsl" with { type: "text" };
import vec4Wgsl from "../../shaders/attention_matmul_vec4.wgsl" with { type: "text" };
import vec8Wgsl from "../../shaders/attention_matmul_vec8.wgsl" with { type: "text" };
import rowsWgsl from "../../shaders/attention_matmul_rows.wgsl" with { type: "text" };
import rowsTexWgsl from "../../shaders/attention_matmul_rows_tex.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, groups, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { Access, KernelSource } from "../gpu/pipeline.ts";
import { scratchTexture } from "../gpu/scratch_texture.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { ChunkView } from "./attention_chunks.ts";
import type { AttentionDims } from "./attention.ts";
import { tiledProduct } from "./matmul_gemm.ts";

const BINDINGS: readonly Access[] = ["read_write", "read", "read", "uniform"];
const TEX_BINDINGS: readonly Access[] = ["read_write", "texture", "texture", "uniform"];
/** Texels per row of the operand textures of attention_matmul_rows_tex.wgsl. */
const TEXTURE_WIDTH = Number(rowsTexWgsl.match(/const TEXTURE_WIDTH: u32 = (\d+)u;/)![1]);
const ROWS: KernelSource = { file: "attention_matmul_rows.wgsl", code: rowsWgsl, bindings: BINDINGS };
const ROWS_TEX: KernelSource = {
  file: "attention_matmul_rows_tex.wgsl",
  code: rowsTexWgsl,
  bindings: TEX_BINDINGS,
};
/** Columns of c one invocation of each rows kernel owns (its BLOCK_COLS, set by the generator). */
const BLOCK_COLS = new Map(
  [ROWS, ROWS_TEX].map((s) => [s, Number(s.code.match(/const BLOCK_COLS: u32 = (\d+)u;/)![1])]),
);

/** Layout of one operand: element (r, c) of batch (bi, h) at `off + bi*bs + h*hs + r*rs + c*cs`. */
export interface Strided {
  tensor: Tensor;
  off: number;
  bs: number;
  hs: number;
  rs: number;
  cs: number;
}

/** c[z] (M, N) = scale * a[z] (M, K) @ b[z] (K, N) for z = bi * NH + h over B * NH batches. */
export interface BatchedProduct {
  M: number;
  N: number;
  K: number;
  B: number;
  NH: number;
  a: Strided;
  b: Strided;
  /** Output; its column stride is 1. */
  c: Omit<Strided, "cs">;
  scale: number;
  /**
   * Operand textures shared with other products (they must hold a's and b's spans), for the 32-row block;
   * default: the product copies its own operands where it reads textures.
   */
  textures?: ProductTextures;
}

/** Which loop the vec4 kernel needs: by the contiguous dimension of a and b; null if it cannot use vec4. */
function vec4Entry(p: BatchedProduct): "nt" | "nn" | "tn" | null {
  const m4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const { a, b } = p;
  if (!m4(a.off, a.bs, a.hs, b.off, b.bs, b.hs, p.M, p.N, p.K)) return null;
  if (a.cs === 1 && b.rs === 1 && m4(a.rs, b.cs)) return "nt";
  if (a.cs === 1 && b.cs === 1 && m4(a.rs, b.rs)) return "nn";
  if (a.rs === 1 && b.cs === 1 && m4(a.cs, b.rs)) return "tn";
  return null;
}

/** Workgroup shapes: invocations along m and n (each owns a 4 x 4 block of c); see bench/attention_bench.ts. */
export const TILINGS = { software: { GM: 4, GN: 8 }, hardware: { GM: 8, GN: 8 } } as const;

/** Kernel choices of {@linkcode batchedProduct}; the defaults follow the adapter. */
export interface ProductOptions {
  /**
   * The hardware GPUs' tiled product (matmul_tiled.wgsl, 64 x 64 tiles through workgroup memory, shared with
   * the matmul ops). Default: on a hardware adapter unless `scalar`, `block`, `tiling` or `textures` is given.
   */
  tiled?: boolean;
  /** The scalar kernel even where the vec4 one applies (tests). */
  scalar?: boolean;
  /**
   * Register block of the vec4 kernels: 4 x 4, 8 x 8, or 32 rows by 32 columns per invocation from textures, 16
   * from storage buffers (`32`, for software adapters, where loads cost far more than FMAs; it also needs c's
   * offsets and row stride to be multiples of 4).
   * Default: 32 on a software adapter where it applies, else 8.
   */
  block?: 4 | 8 | 32;
  /** The workgroup shape (default: `software` on a software adapter, else `hardware`). */
  tiling?: keyof typeof TILINGS;
  /**
   * With the 32-row block: read both operands from texture copies of their buffers
   * (`attention_matmul_rows_tex.wgsl`, faster on software adapters) where they fit a texture. Default: on a
   * software adapter.
   */
  textures?: boolean;
}

/** Prepares one batched product. */
export async function batchedProduct(gpu: Gpu, p: BatchedProduct, o: ProductOptions = {}): Promise<Dispatch> {
  const { a, b, c } = p;
  const forcedOther = [o.scalar, o.block, o.tiling, o.textures].some((x) => x !== undefined);
  if (o.tiled ?? (!gpu.isSoftware && !forcedOther)) {
    // c(m, n) = sum_k a(m, k) b(k, n): the tiled kernel's B(j, p) is b(p, j).
    return await tiledProduct(gpu, {
      I: p.M,
      J: p.N,
      P: p.K,
      B: p.B,
      NH: p.NH,
      a: { tensor: a.tensor, off: a.off, bs: a.bs, hs: a.hs, si: a.rs, sp: a.cs },
      b: { tensor: b.tensor, off: b.off, bs: b.bs, hs: b.hs, sj: b.cs, sp: b.rs },
      out: { tensor: c.tensor, off: c.off, bs: c.bs, hs: c.hs, si: c.rs },
      alpha: p.scale,
    });
  }
  const entry = o.scalar ? null : vec4Entry(p);
  const rowsFit = entry !== null && [c.off, c.bs, c.hs, c.rs].every((x) => x % 4 === 0);
  const block = o.block ?? (gpu.isSoftware && rowsFit ? 32 : 8);
  if (entry && block === 32) {
    if (!rowsFit) throw new RangeError("batchedProduct: block 32 needs c's offsets and row stride in vec4s");
    const tex = p.textures ?? ((o.textures ?? gpu.isSoftware) ? ownTextures(gpu, p) : null);
    const source = tex ? ROWS_TEX : ROWS;
    // 32 rows by BLOCK_COLS columns per invocation (32 from textures, 16 from storage), GN invocations along
    // n (a power of two up to 8), 8 / GN row blocks of 32.
    const cols = BLOCK_COLS.get(source)!;
    const GN = Math.min(8, 2 ** Math.ceil(Math.log2(Math.ceil(p.N / cols))));
    const grid = [groups(p.N, cols * GN), groups(p.M, 32 * (8 / GN)), p.B * p.NH] as const;
    const kernel = await gpu.pipelines.get({ ...source, entryPoint: entry }, { GN });
    if (tex) {
      const bindings = [c.tensor, { texture: tex.a.texture }, { texture: tex.b.texture }];
      const record = (encoder: GPUCommandEncoder) => tex.copies.forEach((t) => t.record(encoder));
      return prepareDispatch(gpu, kernel, bindings, params(p, tex), grid, tex.copies.length ? record : null);
    }
    return prepareDispatch(gpu, kernel, [c.tensor, a.tensor, b.tensor], params(p), grid);
  }
  const { GM, GN } = TILINGS[o.tiling ?? (gpu.isSoftware ? "software" : "hardware")];
  const rb = entry ? block : 4;
  const source: KernelSource = !entry
    ? { file: "attention_matmul.wgsl", code: scalarWgsl, bindings: BINDINGS }
    : rb === 8
    ? { file: "attention_matmul_vec8.wgsl", code: vec8Wgsl, bindings: BINDINGS, entryPoint: entry }
    : { file: "attention_matmul_vec4.wgsl", code: vec4Wgsl, bindings: BINDINGS, entryPoint: entry };
  const kernel = await gpu.pipelines.get(source, { GM, GN });
  const grid = [groups(p.N, rb * GN), groups(p.M, rb * GM), p.B * p.NH] as const;
  return prepareDispatch(gpu, kernel, [c.tensor, a.tensor, b.tensor], params(p), grid);
}

/** The kernels' Params; with texture copies, a's and b's offsets count from the first copied element. */
function params(p: BatchedProduct, t?: ProductTextures): ArrayBuffer {
  const { a, b, c } = p;
  return new ParamPack().u32(p.M).u32(p.N).u32(p.K).u32(p.NH)
    .u32(a.off - (t?.a.lo ?? 0)).u32(a.bs).u32(a.hs).u32(a.rs).u32(a.cs)
    .u32(b.off - (t?.b.lo ?? 0)).u32(b.bs).u32(b.hs).u32(b.rs).u32(b.cs)
    .u32(c.off).u32(c.bs).u32(c.hs).u32(c.rs).f32(p.scale).bytes();
}

/** Elements [lo, hi) of an operand's tensor that a product reads (`rows` x `cols` per batch). */
function span(s: Strided, p: BatchedProduct, rows: number, cols: number): [number, number] {
  return [s.off, s.off + (p.B - 1) * s.bs + (p.NH - 1) * s.hs + (rows - 1) * s.rs + (cols - 1) * s.cs + 1];
}

/**
 * Elements [lo, hi) of a tensor in a scratch texture of `attention_matmul_rows_tex.wgsl`'s linear layout
 * (vec4 i from lo at texel (i % TEXTURE_WIDTH, i / TEXTURE_WIDTH)), put there by `record` (two
 * copyBufferToTexture: the full rows, then the last partial row).
 */
export interface TextureCopy {
  readonly texture: GPUTexture;
  readonly lo: number;
  record(encoder: GPUCommandEncoder): void;
}

/**
 * A copy of elements [lo, hi) of `tensor` into the scratch texture of `role` (shared by every product of the
 * device: record the copy before each use), or null where it cannot be made: lo off a 16-byte boundary, a copy
 * past the buffer's end, or more rows than a texture holds.
 */
export function textureCopy(
  gpu: Gpu,
  role: string,
  tensor: Tensor,
  lo: number,
  hi: number,
): TextureCopy | null {
  const offset = tensor.byteOffset + lo * 4;
  const texels = Math.ceil((hi - lo) / 4);
  const full = Math.floor(texels / TEXTURE_WIDTH);
  const rem = texels % TEXTURE_WIDTH;
  const height = full + (rem > 0 ? 1 : 0);
  if (offset % 16 !== 0 || offset + texels * 16 > tensor.buffer.size) return null;
  if (height >= gpu.device.limits.maxTextureDimension2D) return null;
  const texture = scratchTexture(gpu, `attention ${role}`, TEXTURE_WIDTH, height);
  const { buffer } = tensor;
  const bytesPerRow = TEXTURE_WIDTH * 16;
  return {
    texture,
    lo,
    record(encoder) {
      if (full > 0) {
        encoder.copyBufferToTexture({ buffer, offset, bytesPerRow }, { texture }, [TEXTURE_WIDTH, full]);
      }
      if (rem > 0) {
        const last = { buffer, offset: offset + full * bytesPerRow, bytesPerRow };
        encoder.copyBufferToTexture(last, { texture, origin: [0, full] }, [rem, 1]);
      }
    },
  };
}

/** The operand textures of a product and the copies to record right before it. */
export interface ProductTextures {
  a: TextureCopy;
  b: TextureCopy;
  copies: TextureCopy[];
}

/**
 * Whether a chunk's products read their operands from shared texture copies: the 32-row block kernel (the
 * software default) with textures on (`d.textures`, default on software adapters), T and hs multiples of 4
 * and every view offset too (so that every product takes that kernel).
 */
export function texturedChunk(gpu: Gpu, d: AttentionDims, offsets: number[]): boolean {
  const block = d.block ?? (gpu.isSoftware ? 32 : 8);
  return (d.textures ?? gpu.isSoftware) && !d.scalar && block === 32 &&
    [d.T, d.C / d.NH, ...offsets].every((x) => x % 4 === 0);
}

/** Texture copies of views, by role, all or none (null when one does not fit a texture). */
export function textureCopies(
  gpu: Gpu,
  views: Record<string, { v: ChunkView; n: number }>,
): Record<string, TextureCopy> | null {
  const out: Record<string, TextureCopy> = {};
  for (const [role, { v, n }] of Object.entries(views)) {
    const t = textureCopy(gpu, role, v.tensor, v.off, v.off + n);
    if (!t) return null;
    out[role] = t;
  }
  return out;
}

/** Operand textures of one product: a, b, and the copies to record before it (default none). */
export function uses(a: TextureCopy, b: TextureCopy, ...copies: TextureCopy[]): ProductTextures {
  return { a, b, copies };
}

/** Textures of a product that copies its own operands (one texture when a and b share a tensor), or null. */
function ownTextures(gpu: Gpu, p: BatchedProduct): ProductTextures | null {
  const [aLo, aHi] = span(p.a, p, p.M, p.K);
  const [bLo, bHi] = span(p.b, p, p.K, p.N);
  if (p.a.tensor === p.b.tensor) {
    const t = textureCopy(gpu, "a", p.a.tensor, Math.min(aLo, bLo), Math.max(aHi, bHi));
    return t && { a: t, b: t, copies: [t] };
  }
  const a = textureCopy(gpu, "a", p.a.tensor, aLo, aHi);
  const b = textureCopy(gpu, "b", p.b.tensor, bLo, bHi);
  return a && b && { a, b, copies: [a, b] };
}

/** Part `part` (0 query, 1 key, 2 value) of the fused qkv (B, T, 3C), per head; transposed: (hs, T). */
export function qkvPart(qkv: Tensor, part: number, d: AttentionDims, transposed: boolean): Strided {
  const { T, C, NH } = d;
  const hs = C / NH;
  const rs = transposed ? 1 : 3 * C;
  return { tensor: qkv, off: part * C, bs: T * 3 * C, hs, rs, cs: transposed ? 3 * C : 1 };
}

/** A (B, NH, T, T) tensor at element offset `off`, per (b, h); transposed: rows are keys. */
export function square(tensor: Tensor, d: AttentionDims, off = 0, transposed = false): Strided {
  const { T, NH } = d;
  return { tensor, off, bs: NH * T * T, hs: T * T, rs: transposed ? 1 : T, cs: transposed ? T : 1 };
}
