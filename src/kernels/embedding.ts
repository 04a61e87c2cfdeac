/**
 * Input embeddings: word + position + token-type rows, forward and a deterministic backward (per-row sums in
 * the fixed order of a CPU-built bucket list, no atomics). Tables larger than `gpu.maxBindingBytes` (RoBERTa's
 * 154 MB word table on a 128 MiB binding limit) are bound in aligned row chunks, one dispatch per chunk.
 *
 * @module
 */
import embeddingForwardWgsl from "../../shaders/embedding_forward.wgsl" with { type: "text" };
import embeddingBackwardWgsl from "../../shaders/embedding_backward.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Binding, type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { bucketsLength } from "./embedding_ids.ts";
import { assertSize, ShapeError } from "./shapes.ts";
import { COLUMN_LANES, withColumnLanes } from "./row_lanes.ts";

const FORWARD_WG = 256;
const BACKWARD_WG = 64;

const FORWARD: KernelSource = {
  file: "embedding_forward.wgsl",
  code: embeddingForwardWgsl,
  bindings: ["read_write", "read", "read", "read", "read", "read", "read", "uniform"],
};

const BACKWARD: KernelSource = {
  file: "embedding_backward.wgsl",
  code: withColumnLanes(embeddingBackwardWgsl),
  bindings: ["read_write", "read", "read", "uniform"],
};

/** Dimensions: N = B*T positions of C features. Table row counts follow from the tensors' sizes. */
export interface EmbeddingDims {
  N: number;
  C: number;
  /**
   * The backward's layout: `bucket`, a workgroup per distinct row over all C columns (default on a software
   * adapter), or `lanes`, a workgroup per distinct row and 32 columns, 8 lanes of positions each (default on
   * GPUs; the sums' order differs, see embedding_backward.wgsl).
   */
  layout?: "bucket" | "lanes";
}

/** A row range of a (rows, C) table and its binding. */
export interface TableChunk {
  binding: Binding;
  row0: number;
  rows: number;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function tableRows(kernel: string, name: string, t: Tensor, C: number): number {
  if (C < 1 || t.size % C !== 0) {
    throw new ShapeError(
      `${kernel}: '${name}' has ${t.size} elements, not a whole number of rows of C = ${C}`,
    );
  }
  return t.size / C;
}

/**
 * Splits a (rows, C) table into row chunks that each fit `gpu.maxBindingBytes`, with byte offsets aligned to
 * `minStorageBufferOffsetAlignment`. A table that fits is one chunk bound whole.
 */
export function tableChunks(gpu: Gpu, table: Tensor, C: number): TableChunk[] {
  const rows = tableRows("tableChunks", table.label, table, C);
  const rowBytes = 4 * C;
  if (rows * rowBytes <= gpu.maxBindingBytes) return [{ binding: table, row0: 0, rows }];
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  const step = align / gcd(rowBytes, align);
  const per = Math.floor(gpu.maxBindingBytes / rowBytes / step) * step;
  if (per === 0) {
    throw new ShapeError(
      `tableChunks: '${table.label}' rows of ${rowBytes} bytes cannot be split into aligned chunks of at most ` +
        `${gpu.maxBindingBytes} bytes (alignment ${align})`,
    );
  }
  const chunks: TableChunk[] = [];
  for (let row0 = 0; row0 < rows; row0 += per) {
    const n = Math.min(per, rows - row0);
    chunks.push({ binding: { tensor: table, offset: row0 * rowBytes, size: n * rowBytes }, row0, rows: n });
  }
  return chunks;
}

function assertFits(gpu: Gpu, kernel: string, tensors: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.byteSize > gpu.maxBindingBytes) {
      throw new ShapeError(
        `${kernel}: '${name}' (${t.byteSize} bytes) exceeds the binding limit of ${gpu.maxBindingBytes} bytes`,
      );
    }
  }
}

/**
 * Prepares `out (N, C) = wte[ids] + wpe[posIds] + wtt[typeIds]` (ids u32 (N); position ids from
 * `positionIds`). One dispatch per row chunk of the word table, recorded in order.
 *
 * @example
 * ```ts
 * import { createTensor, embeddingForward, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const u32 = (data: number[]) => createTensor(gpu, [data.length], "u32", { data });
 * const [ids, posIds, typeIds] = [await u32([1, 0]), await u32([0, 1]), await u32([0, 0])];
 * const wte = await createTensor(gpu, [2, 2], "f32", { data: [1, 2, 3, 4] });
 * const wpe = await createTensor(gpu, [2, 2], "f32", { data: [10, 20, 30, 40] });
 * const wtt = await createTensor(gpu, [1, 2], "f32", { data: [100, 200] });
 * const out = await createTensor(gpu, [2, 2]);
 * const ds = await embeddingForward(gpu, { out, ids, posIds, typeIds, wte, wpe, wtt }, { N: 2, C: 2 });
 * await runDispatches(gpu, ds);
 * console.log(await readTensor(gpu, out)); // [113, 224, 131, 242]
 * ```
 */
export async function embeddingForward(
  gpu: Gpu,
  t: { out: Tensor; ids: Tensor; posIds: Tensor; typeIds: Tensor; wte: Tensor; wpe: Tensor; wtt: Tensor },
  d: EmbeddingDims,
): Promise<Dispatch[]> {
  const k = "embeddingForward";
  const { N, C } = d;
  assertSize(k, "out", t.out, N * C, `N*C = ${N}*${C}`);
  for (const name of ["ids", "posIds", "typeIds"] as const) {
    assertSize(k, name, t[name], N, `N = ${N}`);
    if (t[name].dtype !== "u32") throw new ShapeError(`${k}: '${name}' must be u32, got ${t[name].dtype}`);
  }
  for (const name of ["wpe", "wtt"] as const) tableRows(k, name, t[name], C);
  assertFits(gpu, k, { out: t.out, wpe: t.wpe, wtt: t.wtt });
  const kernel = await gpu.pipelines.get(FORWARD, { WG: FORWARD_WG });
  return tableChunks(gpu, t.wte, C).map((chunk, i) =>
    prepareDispatch(
      gpu,
      kernel,
      [t.out, t.ids, t.posIds, t.typeIds, chunk.binding, t.wpe, t.wtt],
      new ParamPack().u32(N).u32(C).u32(chunk.row0).u32(chunk.rows).u32(i === 0 ? 1 : 0).bytes(),
      grid1d(gpu, N * C, FORWARD_WG),
    )
  );
}

/**
 * Prepares `dwte += `, `dwpe += `, `dwtt += ` the sums of `dout (N, C)` over the positions that read each row,
 * in the fixed order of the bucket lists (u32 tensors of `bucketsLength(N)`, rewritten each batch from
 * `embeddingBuckets(ids, rows)` of the word, position and token-type ids). One dispatch per row chunk of each
 * gradient table, recorded in order.
 */
export async function embeddingBackward(
  gpu: Gpu,
  t: {
    dwte: Tensor;
    dwpe: Tensor;
    dwtt: Tensor;
    dout: Tensor;
    wteBuckets: Tensor;
    wpeBuckets: Tensor;
    wttBuckets: Tensor;
  },
  d: EmbeddingDims,
): Promise<Dispatch[]> {
  const k = "embeddingBackward";
  const { N, C } = d;
  assertSize(k, "dout", t.dout, N * C, `N*C = ${N}*${C}`);
  assertFits(gpu, k, { dout: t.dout });
  const lanes = (d.layout ?? (gpu.isSoftware ? "bucket" : "lanes")) === "lanes";
  const kernel = lanes
    ? await gpu.pipelines.get({ ...BACKWARD, entryPoint: "lanes" }, COLUMN_LANES)
    : await gpu.pipelines.get(BACKWARD, { WG: BACKWARD_WG });
  const buckets = grid1d(gpu, Math.max(N, 1), 1); // one workgroup per possible bucket (x, y)
  const grid = [buckets[0], buckets[1] ?? 1, lanes ? Math.ceil(C / COLUMN_LANES.COLS) : 1] as const; // column blocks: z
  const out: Dispatch[] = [];
  for (
    const [table, buckets] of [["dwte", "wteBuckets"], ["dwpe", "wpeBuckets"], [
      "dwtt",
      "wttBuckets",
    ]] as const
  ) {
    assertSize(k, buckets, t[buckets], bucketsLength(N), `bucketsLength(N) = 3*${N}+2`);
    if (t[buckets].dtype !== "u32") {
      throw new ShapeError(`${k}: '${buckets}' must be u32, got ${t[buckets].dtype}`);
    }
    assertFits(gpu, k, { [buckets]: t[buckets] });
    for (const chunk of tableChunks(gpu, t[table], C)) {
      out.push(prepareDispatch(
        gpu,
        kernel,
        [chunk.binding, t[buckets], t.dout],
        new ParamPack().u32(N).u32(C).u32(chunk.row0).u32(chunk.rows).bytes(),
        grid,
      ));
    }
  }
  return out;
}
