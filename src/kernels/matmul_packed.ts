/**
 * The matrix product of software adapters: both operands in rgba32float textures, then `matmul_packed.wgsl`,
 * which fetches them as texels. On llvmpipe a storage-buffer load is a per-lane scalar loop while a texel fetch
 * is one vector gather, so the product runs ~1.5x faster than the same block read from storage buffers, the
 * packing counted (`matmul_1024x768x768` vs `_storage` in bench/matmul_bench.ts). An operand reaches its texture
 * by `copyBufferToTexture`, straight from its tensor or from a staging buffer that `matmul_pack.wgsl` fills in
 * any layout (transposed, strided, per head, scaled), so one kernel serves every linear layer.
 *
 * @module
 */
import packWgsl from "../../shaders/matmul_pack.wgsl" with { type: "text" };
import productWgsl from "../../shaders/matmul_packed.wgsl" with { type: "text" };
import productTnWgsl from "../../shaders/matmul_packed_tn.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, groups, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import { scratchTexture } from "../gpu/scratch_texture.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";

const PACK: KernelSource = {
  file: "matmul_pack.wgsl",
  code: packWgsl,
  bindings: ["read_write", "read", "read", "read", "uniform"],
};
const PRODUCT: KernelSource = {
  file: "matmul_packed.wgsl",
  code: productWgsl,
  bindings: ["read_write", "texture", "texture", "uniform"],
};
/** The same product with c bound as scalars: any N and c layout (see packedFits and scalarC). */
const PRODUCT_SCALAR_C: KernelSource = {
  file: "matmul_packed.wgsl (scalar c)",
  code: scalarC(productWgsl),
  bindings: ["read_write", "texture", "texture", "uniform"],
};
const PRODUCT_TN: KernelSource = {
  file: "matmul_packed_tn.wgsl",
  code: productTnWgsl,
  bindings: ["read_write", "texture", "texture", "uniform"],
};
/** The block one invocation of matmul_packed.wgsl owns (set by scripts/gen_matmul_packed.py). */
const BLOCK_ROWS = blockConstant(PRODUCT, "BLOCK_ROWS");
const BLOCK_COLS = blockConstant(PRODUCT, "BLOCK_COLS");
const TN_ROWS = blockConstant(PRODUCT_TN, "BLOCK_ROWS");
const TN_COLS = blockConstant(PRODUCT_TN, "BLOCK_COLS");

function blockConstant(source: KernelSource, name: string): number {
  const m = source.code.match(new RegExp(`const ${name}: u32 = (\\d+)u;`));
  if (!m) throw new Error(`${source.file} declares no ${name}`);
  return Number(m[1]);
}
const PRODUCT_WG = 8;

/** Element (r, k) of operand batch z = bi * NH + h sits at `off + bi * bs + h * hs + r * sRow + k * sK`. */
export interface PackedOperand {
  tensor: Tensor;
  off: number;
  bs: number;
  hs: number;
  sRow: number;
  sK: number;
}

/**
 * `c[z](m, n) = (bias[n]) (+ c[z](m, n)) + sum_k (alpha * a[z](m, k)) b[z](n, k)` for z over B * NH batches
 * (alpha scales a as it is packed); c(m, n) of batch (bi, h) at `c.off + bi * c.bs + h * c.hs + m * c.rs + n`.
 */
export interface PackedProduct {
  M: number;
  N: number;
  K: number;
  B: number;
  NH: number;
  a: PackedOperand;
  b: PackedOperand;
  c: { tensor: Tensor; off: number; bs: number; hs: number; rs: number };
  alpha: number;
  bias: Tensor | null;
  accumulate: boolean;
}

/**
 * Whether {@linkcode packedProduct} takes the product: K within the texture width, and c either stored as vec4
 * (N and c's offsets and strides multiples of 4: `matmul_packed.wgsl`) or, without `accumulate`, in any layout
 * (its scalar-c form, `scalarC` below: four scalar stores per vec4; a vocabulary or label count that is not a
 * multiple of 4 would otherwise fall back to the tiled kernel, about 15x slower on llvmpipe). Otherwise use
 * another kernel.
 */
export function packedFits(
  gpu: Gpu,
  p: Pick<PackedProduct, "N" | "K"> & { c: Omit<PackedProduct["c"], "tensor">; accumulate?: boolean },
): boolean {
  const K4 = Math.ceil((p.K + 1) / 4);
  return (vec4Output(p) || !p.accumulate) && K4 < gpu.device.limits.maxTextureDimension2D &&
    chunkRows(gpu, K4) >= 4;
}

/** Whether c can be stored as vec4: N and c's offsets and strides multiples of 4. */
function vec4Output(p: Pick<PackedProduct, "N"> & { c: Omit<PackedProduct["c"], "tensor"> }): boolean {
  const { off, bs, hs, rs } = p.c;
  return [p.N, off, bs, hs, rs].every((x) => x % 4 === 0);
}

/**
 * Most packed rows per chunk: below the texture height limit (texture sizes are never a power of two, see
 * scratchTexture) and within one storage binding of staging rows (256-byte row pitch).
 */
function chunkRows(gpu: Gpu, K4: number): number {
  const pitchBytes = Math.ceil(K4 / 16) * 256;
  return Math.min(gpu.device.limits.maxTextureDimension2D - 1, Math.floor(gpu.maxBindingBytes / pitchBytes));
}

/**
 * Prepares the product as pack a, then per chunk of columns pack b and the product (repeated per chunk of
 * batches and rows): each chunk's packed rows fit the texture height, `maxTextureDimension2D`. A bias is folded
 * into the product as one more step of k (a ones column in a, the bias in b). Run the dispatches in order, not
 * interleaved with another product's: the packing textures are shared by all products of a device.
 */
export async function packedProduct(gpu: Gpu, p: PackedProduct): Promise<Dispatch[]> {
  if (!packedFits(gpu, p)) {
    throw new RangeError(
      `packedProduct: K = ${p.K} exceeds the texture width, or c is not vec4-aligned (N = ${p.N}) and accumulates`,
    );
  }
  const Z = p.B * p.NH;
  const K4 = Math.ceil((p.K + (p.bias ? 1 : 0)) / 4);
  const H = chunkRows(gpu, K4);
  const mStep = Math.min(p.M, H);
  const nStep = Math.min(p.N, H - (H % 4));
  const zStep = Math.floor(H / Math.max(mStep, nStep));
  const product = await gpu.pipelines.get(vec4Output(p) ? PRODUCT : PRODUCT_SCALAR_C, {
    ACCUMULATE: p.accumulate ? 1 : 0,
  });
  const out: Dispatch[] = [];
  for (let z0 = 0; z0 < Z; z0 += zStep) {
    const zn = Math.min(zStep, Z - z0);
    for (let m0 = 0; m0 < p.M; m0 += mStep) {
      const M = Math.min(mStep, p.M - m0);
      const ta = scratchTexture(gpu, "a", K4, zn * M);
      const a: Pack = {
        ...p.a,
        off: p.a.off + m0 * p.a.sRow,
        rows: M,
        K: p.K,
        K4,
        NH: p.NH,
        z0,
        zn,
        scale: p.alpha,
        tail: p.bias ? 1 : 0,
        tailOff: 0,
      };
      const packA = await packOperand(gpu, "a", ta, a, null);
      if (packA.dispatch) out.push(packA.dispatch);
      let copyA: Copy | null = packA.copy;
      for (let n0 = 0; n0 < p.N; n0 += nStep) {
        const N = Math.min(nStep, p.N - n0);
        const tb = scratchTexture(gpu, "b", K4, zn * N);
        const b: Pack = {
          ...a,
          ...p.b,
          off: p.b.off + n0 * p.b.sRow,
          rows: N,
          scale: 1,
          tail: p.bias ? 2 : 0,
          tailOff: n0,
        };
        const packB = await packOperand(gpu, "b", tb, b, p.bias);
        if (packB.dispatch) out.push(packB.dispatch);
        const copies = [copyA, packB.copy].filter((x): x is Copy => x !== null);
        copyA = null;
        const nb = Math.ceil(N / BLOCK_COLS);
        const mb = Math.ceil(M / BLOCK_ROWS);
        const { c } = p;
        const params = new ParamPack().u32(M).u32(N).u32(K4).u32(p.NH)
          .u32(c.off + m0 * c.rs + n0).u32(c.bs).u32(c.hs).u32(c.rs).u32(nb).u32(mb).u32(z0).u32(0).bytes();
        const before = (encoder: GPUCommandEncoder) => copies.forEach((copy) => copy(encoder));
        const grid = [groups(nb * mb, PRODUCT_WG), zn] as const;
        out.push(
          prepareDispatch(gpu, product, [c.tensor, { texture: ta }, { texture: tb }], params, grid, before),
        );
      }
    }
  }
  return out;
}

/**
 * Whether {@linkcode packedProductTN} takes the product: no bias, a row of either texture within the texture
 * width, c stored as vec4 (N and c's offsets and strides multiples of 4).
 */
export function packedFitsTN(
  gpu: Gpu,
  p: Pick<PackedProduct, "M" | "N" | "bias"> & { c: Omit<PackedProduct["c"], "tensor"> },
): boolean {
  const { off, bs, hs, rs } = p.c;
  const max = gpu.device.limits.maxTextureDimension2D;
  const W = Math.ceil(Math.max(p.M, p.N) / 4);
  return p.bias === null && [p.N, off, bs, hs, rs].every((x) => x % 4 === 0) && W < max &&
    chunkRows(gpu, W) >= 4;
}

/**
 * Prepares the same product as {@linkcode packedProduct} (no bias) with both operands packed with the summed
 * index k as texture rows, for operands stored that way (`sK` > 1, e.g. dweight = dout^T inp, whose operands
 * then copy straight from their tensors instead of being transposed), in chunks of k that each fit the
 * texture height; chunks after the first accumulate. Run the dispatches in order, not interleaved with another
 * product's.
 */
export async function packedProductTN(gpu: Gpu, p: PackedProduct): Promise<Dispatch[]> {
  if (!packedFitsTN(gpu, p)) {
    throw new RangeError(`packedProductTN: a bias, M = ${p.M} or N = ${p.N} too wide, or c not vec4-aligned`);
  }
  const Z = p.B * p.NH;
  const [M4, N4] = [Math.ceil(p.M / 4), Math.ceil(p.N / 4)];
  const H = chunkRows(gpu, Math.max(M4, N4));
  const kStep = Math.min(p.K, H);
  const zStep = Math.floor(H / kStep);
  const nb = Math.ceil(p.N / TN_COLS);
  const mb = Math.ceil(p.M / TN_ROWS);
  const { c } = p;
  const out: Dispatch[] = [];
  for (let z0 = 0; z0 < Z; z0 += zStep) {
    const zn = Math.min(zStep, Z - z0);
    for (let k0 = 0; k0 < p.K; k0 += kStep) {
      const rows = Math.min(kStep, p.K - k0);
      // The operand (r, k) seen with k as the row: rows of the chunk, r along the texels.
      const side = (role: string, o: PackedOperand, width: number, scale: number) => {
        const pack: Pack = {
          ...o,
          off: o.off + k0 * o.sK,
          sRow: o.sK,
          sK: o.sRow,
          rows,
          K: width,
          K4: Math.ceil(width / 4),
          NH: p.NH,
          z0,
          zn,
          scale,
          tail: 0,
          tailOff: 0,
        };
        const texture = scratchTexture(gpu, role, pack.K4, zn * rows);
        return packOperand(gpu, role, texture, pack, null).then((r) => ({ ...r, texture }));
      };
      const a = await side("a", p.a, p.M, p.alpha);
      const b = await side("b", p.b, p.N, 1);
      for (const x of [a, b]) if (x.dispatch) out.push(x.dispatch);
      const accumulate = p.accumulate || k0 > 0;
      const product = await gpu.pipelines.get(PRODUCT_TN, { ACCUMULATE: accumulate ? 1 : 0 });
      const params = new ParamPack().u32(p.M).u32(p.N).u32(rows).u32(p.NH)
        .u32(c.off).u32(c.bs).u32(c.hs).u32(c.rs).u32(nb).u32(mb).u32(z0).u32(M4).u32(N4)
        .u32(0).u32(0).u32(0).bytes();
      const before = (encoder: GPUCommandEncoder) => (a.copy(encoder), b.copy(encoder));
      const grid = [groups(nb * mb, PRODUCT_WG), zn] as const;
      const bindings = [c.tensor, { texture: a.texture }, { texture: b.texture }];
      out.push(prepareDispatch(gpu, product, bindings, params, grid, before));
    }
  }
  return out;
}

/** One packing: `rows` rows of batches z0 .. z0 + zn - 1, K elements each, then the tail, in K4 texels. */
interface Pack extends PackedOperand {
  rows: number;
  K: number;
  K4: number;
  NH: number;
  z0: number;
  zn: number;
  scale: number;
  /** 0: zeros past K; 1: element K is 1; 2: element K of row r is `tail[tailOff + r]`. */
  tail: 0 | 1 | 2;
  tailOff: number;
}

type Copy = (encoder: GPUCommandEncoder) => void;

/**
 * How one operand reaches its texture: by a copyBufferToTexture straight from its tensor where its rows lie as
 * the texture wants them (K-contiguous, batches back to back, a row pitch in whole 256-byte units, a
 * texel-aligned start, nothing to scale; a bias tail column staged and copied beside it), else by
 * matmul_pack.wgsl into a staging buffer and a copy from there. The copy is recorded before the product, outside
 * the compute pass.
 */
async function packOperand(
  gpu: Gpu,
  role: string,
  texture: GPUTexture,
  o: Pack,
  tail: Tensor | null,
): Promise<{ dispatch: Dispatch | null; copy: Copy }> {
  const m4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const t = o.tensor;
  const size = [o.K4, o.zn * o.rows];
  const direct = o.sK === 1 && o.scale === 1 && o.K % 4 === 0 && (o.sRow * 4) % 256 === 0 &&
    batchesBackToBack(o) &&
    (t.byteOffset + o.off * 4) % 16 === 0 &&
    o.K <= o.sRow;
  if (direct) {
    const offset = t.byteOffset + (o.off + Math.floor(o.z0 / o.NH) * o.bs + (o.z0 % o.NH) * o.hs) * 4;
    const body: Copy = (encoder) =>
      encoder.copyBufferToTexture({ buffer: t.buffer, offset, bytesPerRow: o.sRow * 4 }, { texture }, [
        o.K / 4,
        o.zn * o.rows,
      ]);
    if (o.tail === 0) return { dispatch: null, copy: body };
    // The tail column (texel K / 4 of each row) is staged by MODE 3, one texel per 256-byte row.
    const kernel = await gpu.pipelines.get(PACK, { MODE: 3, TAIL: o.tail });
    const staging = await matmulScratch(gpu, `staging ${role}`, o.zn * o.rows * 64);
    const params = packParams(o, 16);
    const dispatch = prepareDispatch(gpu, kernel, [staging, t, t, tail ?? t], params, [
      groups(o.rows, 8),
      1,
      o.zn,
    ]);
    const tailCopy: Copy = (encoder) =>
      encoder.copyBufferToTexture(
        { buffer: staging.buffer, offset: staging.byteOffset, bytesPerRow: 256 },
        { texture, origin: [o.K / 4, 0] },
        [1, o.zn * o.rows],
      );
    return { dispatch, copy: (encoder) => (body(encoder), tailCopy(encoder)) };
  }
  const MODE = o.sK === 1 && m4(o.off, o.bs, o.hs, o.sRow)
    ? 1
    : o.sRow === 1 && m4(o.off, o.bs, o.hs, o.sK)
    ? 2
    : 0;
  const kernel = await gpu.pipelines.get(PACK, { MODE, TAIL: o.tail });
  const pitch = Math.ceil(o.K4 / 16) * 16;
  const staging = await matmulScratch(gpu, `staging ${role}`, o.zn * o.rows * pitch * 4);
  const params = packParams(o, pitch);
  const [x, y] = MODE === 2
    ? [Math.ceil(o.rows / 4), o.K4]
    : MODE === 0 && o.sRow === 1
    ? [o.rows, o.K4]
    : [o.K4, o.rows];
  const dispatch = prepareDispatch(gpu, kernel, [staging, t, t, tail ?? t], params, [
    groups(x, 8),
    groups(y, 8),
    o.zn,
  ]);
  return {
    dispatch,
    copy: (encoder) =>
      encoder.copyBufferToTexture(
        { buffer: staging.buffer, offset: staging.byteOffset, bytesPerRow: pitch * 16 },
        { texture },
        size,
      ),
  };
}

/** Whether the rows of batches z0 .. z0 + zn - 1 follow each other at the row pitch (one batch always does). */
function batchesBackToBack(o: Pack): boolean {
  if (o.zn === 1) return true;
  const rows = o.rows * o.sRow;
  return o.NH === 1 ? o.bs === rows : o.hs === rows && o.bs === o.NH * rows;
}

function packParams(o: Pack, pitch: number): ArrayBuffer {
  return new ParamPack().u32(o.rows).u32(o.K).u32(o.K4).u32(o.NH).u32(o.off).u32(o.bs).u32(o.hs).u32(o.sRow)
    .u32(o.sK).u32(o.z0).f32(o.scale).u32(o.tailOff).u32(pitch).u32(0).u32(0).u32(0).bytes();
}

/**
 * Scratch buffers shared by all matmuls of a device, one per role (the staging buffers here, the transposed
 * operands of the `cpu-storage` kernels), grown on demand. Sharing is safe because a matmul's dispatches run in
 * order with no other matmul in between; a grown buffer replaces the old one only for later preparations (bind
 * groups keep the old one alive).
 */
const scratchBuffers = new WeakMap<Gpu, Map<string, Tensor>>();

/** The scratch buffer of `role` on this device, at least `elements` floats (see scratchBuffers). */
export async function matmulScratch(gpu: Gpu, role: string, elements: number): Promise<Tensor> {
  let byRole = scratchBuffers.get(gpu);
  if (!byRole) scratchBuffers.set(gpu, byRole = new Map());
  const have = byRole.get(role);
  if (have && have.size >= elements) return have;
  const t = await createTensor(gpu, [elements], "f32", { label: `matmul ${role}` });
  byRole.set(role, t);
  return t;
}

/**
 * matmul_packed.wgsl with c bound as `array<f32>`: four scalar loads and stores per vec4 of the block, each
 * column checked, so N and c's offsets and strides may be anything (a vocabulary or label count that is not a
 * multiple of 4). Only c's declaration and its two accessors differ, so the variant is derived from the
 * generated kernel here rather than generated as a second copy of it; a change to those lines in
 * scripts/gen_matmul_packed.py makes this throw when the module loads.
 */
function scalarC(code: string): string {
  const edits: [string, string][] = [
    [
      "@group(0) @binding(0) var<storage, read_write> c: array<vec4<f32>>;",
      "@group(0) @binding(0) var<storage, read_write> c: array<f32>;  // scalars: any N and c layout",
    ],
    [
      `  let n = min(t.n0 + j, p.N - 4u);
  return c[(t.cbase + (t.m0 + r) * p.c_rs + n) / 4u];`,
      `  let o = t.cbase + (t.m0 + r) * p.c_rs;
  let n = t.n0 + j;
  let last = p.N - 1u;
  return vec4<f32>(c[o + min(n, last)], c[o + min(n + 1u, last)], c[o + min(n + 2u, last)], c[o + min(n + 3u, last)]);`,
    ],
    [
      `  if (n < p.N) {
    c[(t.cbase + (t.m0 + r) * p.c_rs + n) / 4u] = v;
  }`,
      `  let o = t.cbase + (t.m0 + r) * p.c_rs + n;
  if (n < p.N) { c[o] = v.x; }
  if (n + 1u < p.N) { c[o + 1u] = v.y; }
  if (n + 2u < p.N) { c[o + 2u] = v.z; }
  if (n + 3u < p.N) { c[o + 3u] = v.w; }`,
    ],
  ];
  for (const [from, to] of edits) {
    if (code.split(from).length !== 2) {
      throw new Error(`matmul_packed.wgsl: cannot derive the scalar-c form at '${from}'`);
    }
    code = code.replace(from, to);
  }
  return code;
}
