/**
 * The batched, strided matrix products inside self-attention (used by `attention.ts`): one kernel for the six
 * products of the forward and backward, the vec4 variant where every offset and stride allows it.
 *
 * @module
 */
import scalarWgsl from "../../shaders/attention_matmul.wgsl" with { type: "text" };
import vec4Wgsl from "../../shaders/attention_matmul_vec4.wgsl" with { type: "text" };
import vec8Wgsl from "../../shaders/attention_matmul_vec8.wgsl" with { type: "text" };
import rowsWgsl from "../../shaders/attention_matmul_rows.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, groups, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { Access, KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { AttentionDims } from "./attention.ts";

const BINDINGS: readonly Access[] = ["read_write", "read", "read", "uniform"];

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
  /** The scalar kernel even where the vec4 one applies (tests). */
  scalar?: boolean;
  /**
   * Register block of the vec4 kernels: 4 x 4, 8 x 8, or 32 rows x 16 columns per invocation (`32`, for software
   * adapters, where loads cost far more than FMAs; it also needs c's offsets and row stride to be multiples of 4).
   * Default: 32 on a software adapter where it applies, else 8.
   */
  block?: 4 | 8 | 32;
  /** The workgroup shape (default: `software` on a software adapter, else `hardware`). */
  tiling?: keyof typeof TILINGS;
}

/** Prepares one batched product. */
export async function batchedProduct(gpu: Gpu, p: BatchedProduct, o: ProductOptions = {}): Promise<Dispatch> {
  const entry = o.scalar ? null : vec4Entry(p);
  const { a, b, c } = p;
  const params = new ParamPack().u32(p.M).u32(p.N).u32(p.K).u32(p.NH)
    .u32(a.off).u32(a.bs).u32(a.hs).u32(a.rs).u32(a.cs)
    .u32(b.off).u32(b.bs).u32(b.hs).u32(b.rs).u32(b.cs)
    .u32(c.off).u32(c.bs).u32(c.hs).u32(c.rs).f32(p.scale).bytes();
  const rowsFit = entry !== null && [c.off, c.bs, c.hs, c.rs].every((x) => x % 4 === 0);
  const block = o.block ?? (gpu.isSoftware && rowsFit ? 32 : 8);
  if (entry && block === 32) {
    if (!rowsFit) throw new RangeError("batchedProduct: block 32 needs c's offsets and row stride in vec4s");
    // 16 columns per invocation, GN invocations along n (a power of two up to 8), 8 / GN row blocks of 32.
    const GN = Math.min(8, 2 ** Math.ceil(Math.log2(Math.ceil(p.N / 16))));
    const source: KernelSource = {
      file: "attention_matmul_rows.wgsl",
      code: rowsWgsl,
      bindings: BINDINGS,
      entryPoint: entry,
    };
    const kernel = await gpu.pipelines.get(source, { GN });
    const grid = [groups(p.N, 16 * GN), groups(p.M, 32 * (8 / GN)), p.B * p.NH] as const;
    return prepareDispatch(gpu, kernel, [c.tensor, a.tensor, b.tensor], params, grid);
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
  return prepareDispatch(gpu, kernel, [c.tensor, a.tensor, b.tensor], params, grid);
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
