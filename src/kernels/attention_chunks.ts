/**
 * Splitting the attention kernels over the batch when a tensor exceeds `gpu.maxBindingBytes` (the (B, NH, T, T)
 * probabilities of B = 32, 12 heads, T = 512 are 402 MB; llvmpipe binds at most 128 MiB). A chunk is a run of
 * whole examples (all heads together): every per-example tensor is bound as a view covering the chunk, starting
 * at the byte offset rounded down to `minStorageBufferOffsetAlignment`, and the kernel gets the element offset
 * of the chunk's first example inside that view. Row kernels keep global row and element indices, so the
 * counter-based dropout draws exactly what the unsplit run draws.
 *
 * When every tensor fits whole, the plan is one `whole` chunk and each view is the tensor itself: the same
 * bindings and dispatches as without splitting.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ShapeError } from "./shapes.ts";

/** A per-example tensor: example b occupies elements `start + b * E .. start + (b + 1) * E - 1`. */
export interface PerExample {
  tensor: Tensor;
  /** Elements per example. */
  E: number;
  /** Element of example 0 (default 0; the second half of the backward scratch starts at B*NH*T*T). */
  start?: number;
}

/** Examples `b0 .. b0 + nb - 1`. */
export interface ExampleChunk {
  b0: number;
  nb: number;
}

/** How a kernel's examples are split; `whole`: one chunk binding every tensor whole (nothing split). */
export interface ChunkPlan {
  whole: boolean;
  chunks: ExampleChunk[];
  /** `minStorageBufferOffsetAlignment` in bytes. */
  align: number;
}

/** A bound view and the element offset of the chunk's first example inside it. */
export interface ChunkView {
  tensor: Tensor;
  off: number;
}

/**
 * Plans chunks of whole examples such that every tensor's chunk view fits `gpu.maxBindingBytes`. Throws a
 * {@linkcode ShapeError} naming the tensor when not even one example fits.
 */
export function planExampleChunks(
  gpu: Gpu,
  kernel: string,
  B: number,
  parts: Record<string, PerExample | null>,
): ChunkPlan {
  const max = gpu.maxBindingBytes;
  const list = Object.entries(parts).filter((e): e is [string, PerExample] => e[1] !== null);
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  if (list.every(([, p]) => p.tensor.byteSize <= max)) {
    return { whole: true, chunks: [{ b0: 0, nb: B }], align };
  }
  for (const [name, p] of list) {
    if (p.tensor.byteOffset % align !== 0) {
      throw new ShapeError(
        `${kernel}: '${name}' starts at byte ${p.tensor.byteOffset}, not a multiple of the storage offset ` +
          `alignment ${align}; it cannot be split into bindings of at most ${max} bytes`,
      );
    }
  }
  const chunks: ExampleChunk[] = [];
  for (let b0 = 0; b0 < B;) {
    let nb = B - b0;
    for (const [name, p] of list) {
      const first = ((p.start ?? 0) + b0 * p.E) * 4; // bytes from the tensor's start
      const slack = first % align;
      const fit = Math.floor((max - slack) / (p.E * 4));
      if (fit < 1) {
        throw new ShapeError(
          `${kernel}: one example of '${name}' is ${p.E * 4} bytes (${p.E} floats), more than the binding ` +
            `limit of ${max} bytes${slack > 0 ? ` less ${slack} bytes of offset alignment` : ""}; ` +
            `shorten the sequences or use fewer heads`,
        );
      }
      nb = Math.min(nb, fit);
    }
    chunks.push({ b0, nb });
    b0 += nb;
  }
  return { whole: false, chunks, align };
}

/** The view of `p` bound for chunk `c` (the tensor itself when the plan is whole). */
export function chunkView(p: PerExample, c: ExampleChunk, plan: ChunkPlan): ChunkView {
  const start = p.start ?? 0;
  if (plan.whole) return { tensor: p.tensor, off: start };
  const first = start + c.b0 * p.E;
  const a = plan.align / 4;
  const s = Math.floor(first / a) * a;
  const end = start + (c.b0 + c.nb) * p.E;
  return {
    tensor: p.tensor.view([end - s], s, `${p.tensor.label} examples ${c.b0}+${c.nb}`),
    off: first - s,
  };
}
