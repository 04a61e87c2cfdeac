/**
 * Reading GPU data back to the CPU. This is the only module that maps buffers: training reads back only the
 * numbers it logs, so every readback in the code base is visible here.
 *
 * @module
 */
import type { Gpu } from "./device.ts";
import { type HostArray, hostView, type Tensor } from "./tensor.ts";

const STAGING = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;

/** Reads raw bytes of a buffer range (waits for all submitted work touching it). */
export async function readBytes(
  gpu: Gpu,
  buffer: GPUBuffer,
  offset: number,
  bytes: number,
): Promise<ArrayBuffer> {
  const padded = Math.ceil(bytes / 4) * 4;
  const staging = gpu.pool.acquire(padded, STAGING, "readback staging");
  const enc = gpu.device.createCommandEncoder({ label: "readback" });
  enc.copyBufferToBuffer(buffer, offset, staging, 0, padded);
  gpu.device.queue.submit([enc.finish()]);
  try {
    await staging.mapAsync(GPUMapMode.READ, 0, padded);
  } catch (e) {
    gpu.check("readback");
    throw e;
  }
  const out = staging.getMappedRange(0, padded).slice(0, bytes);
  staging.unmap();
  gpu.pool.release(staging);
  gpu.check("readback");
  return out;
}

/** Reads a whole tensor as its host array type. */
export async function readTensor(gpu: Gpu, tensor: Tensor): Promise<HostArray> {
  return hostView(await readBytes(gpu, tensor.buffer, tensor.byteOffset, tensor.byteSize), tensor.dtype);
}

/** Reads a whole f32 tensor. */
export async function readFloats(gpu: Gpu, tensor: Tensor): Promise<Float32Array> {
  return new Float32Array(await readBytes(gpu, tensor.buffer, tensor.byteOffset, tensor.byteSize));
}

/** Reads several tensors with one submit (for logging a few scalars at once). */
export async function readMany(gpu: Gpu, tensors: readonly Tensor[]): Promise<HostArray[]> {
  const offsets: number[] = [];
  let total = 0;
  for (const t of tensors) {
    offsets.push(total);
    total += Math.ceil(t.byteSize / 4) * 4;
  }
  const staging = gpu.pool.acquire(Math.max(4, total), STAGING, "readback staging");
  const enc = gpu.device.createCommandEncoder({ label: "readback many" });
  tensors.forEach((t, i) => enc.copyBufferToBuffer(t.buffer, t.byteOffset, staging, offsets[i], t.byteSize));
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, total));
  const all = staging.getMappedRange(0, Math.max(4, total)).slice(0);
  staging.unmap();
  gpu.pool.release(staging);
  gpu.check("readback");
  return tensors.map((t, i) => hostView(all.slice(offsets[i], offsets[i] + t.byteSize), t.dtype));
}

/** Resolves a timestamp query set and returns its values in nanoseconds. */
export async function readTimestamps(
  gpu: Gpu,
  querySet: GPUQuerySet,
  count: number,
): Promise<BigUint64Array> {
  const bytes = count * 8;
  const resolve = gpu.pool.acquire(
    bytes,
    GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    "timestamps",
  );
  const enc = gpu.device.createCommandEncoder({ label: "resolve timestamps" });
  enc.resolveQuerySet(querySet, 0, count, resolve, 0);
  gpu.device.queue.submit([enc.finish()]);
  const raw = await readBytes(gpu, resolve, 0, bytes);
  gpu.pool.release(resolve);
  return new BigUint64Array(raw);
}

/**
 * Results that arrive later (readbacks), each handled in the order it was queued, with at most `depth` left
 * waiting: the caller queues step k's readback after submitting step k, and step k - depth's is handled then,
 * so the GPU has the next steps queued while the CPU waits (each wait for the GPU costs at least ~10 ms in
 * Deno's WebGPU, whose completion is polled). A result is always handled after every earlier one.
 */
export class InOrder<T> {
  #queue: { result: Promise<T>; handle: (r: T) => void | Promise<void> }[] = [];
  constructor(readonly depth = 1) {}

  /** Queues a result and its handler, then handles the oldest results until at most `depth` wait. */
  async push(result: Promise<T>, handle: (r: T) => void | Promise<void>): Promise<void> {
    result.catch(() => {}); // awaited below; marked handled should an earlier handler throw first
    this.#queue.push({ result, handle });
    while (this.#queue.length > this.depth) await this.#next();
  }

  /** Handles every queued result. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0) await this.#next();
  }

  async #next(): Promise<void> {
    const { result, handle } = this.#queue.shift()!;
    await handle(await result);
  }
}
