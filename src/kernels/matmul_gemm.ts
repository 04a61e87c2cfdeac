/**
 * The general matrix product behind every matmul op, `out[z] (I, J) = alpha * sum_p A[z](i, p) B[z](j, p)`
 * (+ bias[j]) (+ out[z]), planned for the adapter: on a hardware GPU (`gpu`) one workgroup-tiled dispatch that
 * reads any layout through strides; on llvmpipe (`cpu`) both operands packed into textures and a 64 x 32 block
 * per invocation over texel fetches (`matmul_packed.ts`), any layout; `cpu-storage` is the earlier software
 * kernel, a 32 x 16 block reading storage buffers as vec4 along one dimension, which needs both operands in a
 * matching layout, so a transpose of the smaller one into a shared scratch buffer runs first when they differ
 * (kept for comparison in the benchmark and as the fallback where the packed product does not apply).
 *
 * Layouts: an operand is stored `xp` ((I or J) rows, P contiguous) or `px` (P rows).
 *
 * @module
 */
import nt from "../../shaders/matmul_nt.wgsl" with { type: "text" };
import tn from "../../shaders/matmul_tn.wgsl" with { type: "text" };
import tiled from "../../shaders/matmul_tiled.wgsl" with { type: "text" };
import transpose from "../../shaders/matmul_transpose.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, groups, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { matmulScratch, packedFits, packedFitsTN, packedProduct, packedProductTN } from "./matmul_packed.ts";
import { ShapeError } from "./shapes.ts";

/**
 * `cpu`: packed-texture product for software adapters such as llvmpipe; `cpu-storage`: the storage-buffer
 * kernels for software adapters; `gpu`: workgroup-memory tiling for hardware GPUs.
 */
export type MatmulVariant = "cpu" | "cpu-storage" | "gpu";

const CPU_BINDINGS = ["read_write", "read", "read", "read", "uniform"] as const;
const NT: KernelSource = { file: "matmul_nt.wgsl", code: nt, bindings: CPU_BINDINGS };
const TN: KernelSource = { file: "matmul_tn.wgsl", code: tn, bindings: CPU_BINDINGS };
const TILED: KernelSource = {
  file: "matmul_tiled.wgsl",
  code: tiled,
  bindings: ["read_write", "read", "read", "read", "uniform"],
};
const TRANSPOSE: KernelSource = {
  file: "matmul_transpose.wgsl",
  code: transpose,
  bindings: ["read_write", "read", "uniform"],
};

/** Invocations per workgroup of the CPU kernels, and the block one invocation owns (rows x columns). */
const CPU_WG = 8;
const CPU_ROWS = 32;
const CPU_COLS = 16;
const GPU_TILE = 64;

/** A matrix product to plan. `aPMajor`: A is stored (P, I) rather than (I, P); likewise `bPMajor`. */
export interface GemmPlan {
  out: Tensor;
  a: Tensor;
  aPMajor: boolean;
  b: Tensor;
  bPMajor: boolean;
  bias: Tensor | null;
  I: number;
  J: number;
  P: number;
  Z: number;
  alpha: number;
  accumulate: boolean;
  variant: MatmulVariant;
}

/** The variant for this adapter unless forced: `cpu` on software adapters, `gpu` on hardware. */
export function pickVariant(gpu: Gpu, forced?: MatmulVariant): MatmulVariant {
  if (forced !== undefined && forced !== "cpu" && forced !== "cpu-storage" && forced !== "gpu") {
    throw new RangeError(
      `matmul variant must be "cpu", "cpu-storage" or "gpu", got ${JSON.stringify(forced)}`,
    );
  }
  return forced ?? (gpu.isSoftware ? "cpu" : "gpu");
}

/** Throws unless every tensor fits one storage binding (matmul binds whole tensors). */
export function assertBindable(gpu: Gpu, kernel: string, tensors: Record<string, Tensor | null>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t && t.byteSize > gpu.maxBindingBytes) {
      throw new ShapeError(
        `${kernel}: '${name}' [${t.shape}] is ${t.byteSize} bytes, above the binding limit ` +
          `gpu.maxBindingBytes = ${gpu.maxBindingBytes}; matmul binds whole tensors`,
      );
    }
  }
}

/** Prepares the dispatches of one product (run them in order, without other matmuls in between). */
export async function gemm(gpu: Gpu, g: GemmPlan): Promise<Dispatch[]> {
  if (g.variant === "gpu") return [await tiledGemm(gpu, g)];
  const c = { off: 0, bs: g.I * g.J, hs: 0, rs: g.J };
  const operand = (tensor: Tensor, pMajor: boolean, rows: number) => ({
    tensor,
    off: 0,
    bs: rows * g.P,
    hs: 0,
    sRow: pMajor ? 1 : g.P,
    sK: pMajor ? rows : 1,
  });
  const product = {
    M: g.I,
    N: g.J,
    K: g.P,
    B: g.Z,
    NH: 1,
    a: operand(g.a, g.aPMajor, g.I),
    b: operand(g.b, g.bPMajor, g.J),
    c: { tensor: g.out, ...c },
    alpha: g.alpha,
    bias: g.bias,
    accumulate: g.accumulate,
  };
  // Both operands stored P-major (dweight = dout^T inp): the TN form reads them without transposing either.
  if (g.variant === "cpu" && g.aPMajor && g.bPMajor && packedFitsTN(gpu, product)) {
    return await packedProductTN(gpu, product);
  }
  if (g.variant === "cpu" && packedFits(gpu, { N: g.J, K: g.P, c, accumulate: g.accumulate })) {
    return await packedProduct(gpu, product);
  }
  if (g.aPMajor === g.bPMajor) return [cpuAligned(g) ? await cpuGemm(gpu, g) : await tiledGemm(gpu, g)];
  // Mixed layouts: transpose one operand so both match, NT (both xp) or TN (both px); the smaller one
  // unless only the other choice gives the vec4 alignment the CPU kernels need.
  const viaA: GemmPlan = { ...g, aPMajor: !g.aPMajor };
  const viaB: GemmPlan = { ...g, bPMajor: !g.bPMajor };
  const order = g.I <= g.J ? [viaA, viaB] : [viaB, viaA];
  const plan = order.find(cpuAligned);
  if (!plan) return [await tiledGemm(gpu, g)];
  if (plan === viaA) {
    const packed = await matmulScratch(gpu, "transposed a", g.Z * g.I * g.P);
    const [rows, cols] = g.aPMajor ? [g.P, g.I] : [g.I, g.P];
    return [
      await transposeDispatch(gpu, packed, g.a, rows, cols, g.Z),
      await cpuGemm(gpu, { ...plan, a: packed }),
    ];
  }
  const packed = await matmulScratch(gpu, "transposed b", g.Z * g.J * g.P);
  const [rows, cols] = g.bPMajor ? [g.P, g.J] : [g.J, g.P];
  return [
    await transposeDispatch(gpu, packed, g.b, rows, cols, g.Z),
    await cpuGemm(gpu, { ...plan, b: packed }),
  ];
}

/**
 * Whether the CPU kernels can run the product as planned: both operands in one layout, read as vec4 along
 * P (NT) or along I and J (TN), and stored as vec4 along J. Anything else runs the tiled kernel.
 */
function cpuAligned(g: GemmPlan): boolean {
  if (g.aPMajor !== g.bPMajor || g.J % 4 !== 0) return false;
  return g.aPMajor ? g.I % 4 === 0 : g.P % 4 === 0;
}

async function cpuGemm(gpu: Gpu, g: GemmPlan): Promise<Dispatch> {
  const constants = { WG: CPU_WG, BIAS: g.bias ? 1 : 0, ACCUMULATE: g.accumulate ? 1 : 0 };
  const kernel = await gpu.pipelines.get(g.aPMajor ? TN : NT, constants);
  const params = new ParamPack().u32(g.I).u32(g.J).u32(g.P).u32(g.I * g.P).u32(g.J * g.P).u32(g.I * g.J)
    .f32(g.alpha).u32(0).bytes();
  return prepareDispatch(gpu, kernel, [g.out, g.a, g.b, g.bias ?? g.a], params, [
    groups(groups(g.J, CPU_COLS), CPU_WG),
    groups(g.I, CPU_ROWS),
    g.Z,
  ]);
}

async function tiledGemm(gpu: Gpu, g: GemmPlan): Promise<Dispatch> {
  const [aSi, aSp] = g.aPMajor ? [1, g.I] : [g.P, 1];
  const [bSj, bSp] = g.bPMajor ? [1, g.J] : [g.P, 1];
  return await tiledProduct(gpu, {
    I: g.I,
    J: g.J,
    P: g.P,
    B: g.Z,
    NH: 1,
    a: { tensor: g.a, off: 0, bs: g.I * g.P, hs: 0, si: aSi, sp: aSp },
    b: { tensor: g.b, off: 0, bs: g.J * g.P, hs: 0, sj: bSj, sp: bSp },
    out: { tensor: g.out, off: 0, bs: g.I * g.J, hs: 0, si: g.J },
    alpha: g.alpha,
    accumulate: g.accumulate,
    bias: g.bias,
  });
}

/**
 * A product for matmul_tiled.wgsl, every operand through offsets and strides (elements of the bound tensor):
 * out(i, j) of batch z = bi * NH + h = alpha * sum_p A(i, p) B(j, p) (+ bias[j]) (+ out when accumulating).
 */
export interface TiledProduct {
  I: number;
  J: number;
  P: number;
  /** Examples; the batch is B * NH. */
  B: number;
  NH: number;
  a: { tensor: Tensor; off: number; bs: number; hs: number; si: number; sp: number };
  b: { tensor: Tensor; off: number; bs: number; hs: number; sj: number; sp: number };
  out: { tensor: Tensor; off: number; bs: number; hs: number; si: number };
  alpha: number;
  accumulate?: boolean;
  bias?: Tensor | null;
}

/** Prepares the hardware-GPU tiled product (64 x 64 tiles; matmul ops and the attention's products). */
export async function tiledProduct(gpu: Gpu, t: TiledProduct): Promise<Dispatch> {
  const kernel = await gpu.pipelines.get(TILED);
  const { a, b, out } = t;
  const params = new ParamPack().u32(t.I).u32(t.J).u32(t.P).u32(t.NH)
    .u32(a.off).u32(a.bs).u32(a.hs).u32(a.si).u32(a.sp)
    .u32(b.off).u32(b.bs).u32(b.hs).u32(b.sj).u32(b.sp)
    .u32(out.off).u32(out.bs).u32(out.hs).u32(out.si)
    .f32(t.alpha).u32((t.accumulate ? 1 : 0) | (t.bias ? 2 : 0))
    .bytes();
  return prepareDispatch(gpu, kernel, [out.tensor, a.tensor, b.tensor, t.bias ?? a.tensor], params, [
    groups(t.J, GPU_TILE),
    groups(t.I, GPU_TILE),
    t.B * t.NH,
  ]);
}

/** `out[z] (cols, rows) = inp[z] (rows, cols)^T`. */
async function transposeDispatch(
  gpu: Gpu,
  out: Tensor,
  inp: Tensor,
  rows: number,
  cols: number,
  Z: number,
): Promise<Dispatch> {
  const kernel = await gpu.pipelines.get(TRANSPOSE);
  const params = new ParamPack().u32(rows).u32(cols).u32(rows * cols).bytes();
  return prepareDispatch(gpu, kernel, [out, inp], params, [groups(cols, 16), groups(rows, 16), Z]);
}
