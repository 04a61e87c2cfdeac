/**
 * Copying a block of columns between row-major matrices: assembles a cross-attention's fused (M, 3C) q|k|v
 * from its (M, C) query and (M, 2C) key/value projections, and splits the (M, 3C) gradient back.
 *
 * @module
 */
import copyColumnsWgsl from "../../shaders/copy_columns.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ShapeError } from "./shapes.ts";

const WG = 256;
const COPY_COLUMNS: KernelSource = {
  file: "copy_columns.wgsl",
  code: copyColumnsWgsl,
  bindings: ["read_write", "read", "uniform"],
};

/**
 * The block of {@linkcode copyColumns}: `width` columns of `rows` rows, starting at column `outOffset` of
 * rows `outStride` elements apart in `out` and at column `inpOffset` of rows `inpStride` apart in `inp`.
 */
export interface CopyColumnsDims {
  rows: number;
  width: number;
  outStride: number;
  outOffset: number;
  inpStride: number;
  inpOffset: number;
}

const K = "copyColumns";

function assertCount(name: keyof CopyColumnsDims, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min || v > 0xffffffff) {
    throw new RangeError(`${K}: '${name}' is ${v}, expected an integer >= ${min}`);
  }
}

function assertSide(t: Tensor, name: string, d: CopyColumnsDims, stride: number, offset: number): void {
  const s = `${name}Stride`;
  const o = `${name}Offset`;
  if (offset + d.width > stride) {
    throw new RangeError(
      `${K}: ${o} + width = ${offset} + ${d.width} exceeds ${s} = ${stride}; the block must fit in a row`,
    );
  }
  const need = (d.rows - 1) * stride + offset + d.width;
  if (t.size < need) {
    throw new ShapeError(
      `${K}: '${name}' has shape [${t.shape}] (${t.size} elements), expected at least ` +
        `(rows - 1) * ${s} + ${o} + width = ${d.rows - 1}*${stride} + ${offset} + ${d.width} = ${need}`,
    );
  }
}

/**
 * Prepares `out[r * outStride + outOffset + c] = inp[r * inpStride + inpOffset + c]` for `r < rows`,
 * `c < width`: one dispatch that writes the block and leaves the other elements of `out` untouched. The
 * 4-byte elements are copied as bits. `out` and `inp` are distinct buffers of one dtype, each bound whole
 * (at most `gpu.maxBindingBytes`).
 *
 * @example
 * ```ts
 * import { copyColumns, createTensor, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const q = await createTensor(gpu, [2, 1], "f32", { data: [1, 2] });
 * const qkv = await createTensor(gpu, [2, 3]);
 * const d = { rows: 2, width: 1, outStride: 3, outOffset: 0, inpStride: 1, inpOffset: 0 };
 * await runDispatches(gpu, [await copyColumns(gpu, { out: qkv, inp: q }, d)]);
 * console.log(await readTensor(gpu, qkv)); // Float32Array [1, 0, 0, 2, 0, 0]
 * ```
 */
export async function copyColumns(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor },
  d: CopyColumnsDims,
): Promise<Dispatch> {
  assertCount("rows", d.rows, 1);
  assertCount("width", d.width, 1);
  assertCount("outStride", d.outStride, 1);
  assertCount("outOffset", d.outOffset, 0);
  assertCount("inpStride", d.inpStride, 1);
  assertCount("inpOffset", d.inpOffset, 0);
  assertSide(t.out, "out", d, d.outStride, d.outOffset);
  assertSide(t.inp, "inp", d, d.inpStride, d.inpOffset);
  if (t.out.buffer === t.inp.buffer) {
    throw new ShapeError(
      `${K}: 'out' ('${t.out.label}') and 'inp' ('${t.inp.label}') share one GPU buffer; ` +
        "WebGPU cannot bind a buffer read-write and read-only in one dispatch",
    );
  }
  if (t.out.dtype !== t.inp.dtype) {
    throw new ShapeError(`${K}: 'out' is ${t.out.dtype}, 'inp' is ${t.inp.dtype}; they must match`);
  }
  for (const [name, x] of [["out", t.out], ["inp", t.inp]] as const) {
    if (x.byteSize > gpu.maxBindingBytes) {
      throw new ShapeError(
        `${K}: '${name}' [${x.shape}] is ${x.byteSize} bytes, above the binding limit ` +
          `gpu.maxBindingBytes = ${gpu.maxBindingBytes}; ${K} binds whole tensors`,
      );
    }
  }
  const kernel = await gpu.pipelines.get(COPY_COLUMNS, { WG });
  return prepareDispatch(
    gpu,
    kernel,
    [t.out, t.inp],
    copyColumnsParams(d),
    grid1d(gpu, d.rows * d.width, WG),
  );
}

/**
 * The uniform parameters of {@linkcode copyColumns}: for `Dispatch.setParams` on a prepared copy whose block
 * moves (the same rows and width; the new offsets must keep the block inside both tensors).
 */
export function copyColumnsParams(d: CopyColumnsDims): ArrayBuffer {
  return new ParamPack().u32(d.rows).u32(d.width).u32(d.outStride).u32(d.outOffset)
    .u32(d.inpStride).u32(d.inpOffset).bytes();
}
