/**
 * GPU tensors: a storage buffer that knows its shape, element type and byte size.
 *
 * @module
 */
import type { Gpu } from "./device.ts";
import { GpuValidationError, OutOfMemoryError } from "./errors.ts";

/** Element types the kernels use. */
export type DType = "f32" | "u32" | "i32";

/** Host arrays matching each {@linkcode DType}. */
export type HostArray = Float32Array | Uint32Array | Int32Array;

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/**
 * A storage buffer (or a range of one) with a shape. Buffers are padded to a multiple of 16 bytes (never zero).
 * A view shares its parent's buffer from `byteOffset` on: parameter arenas and activations allocated for the
 * largest batch are used through views.
 */
export class Tensor {
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly label: string,
    readonly byteOffset = 0,
    /** Called once when an owning tensor is destroyed (memory accounting); views own nothing. */
    private readonly release: (() => void) | null = null,
  ) {}

  /**
   * A tensor of `shape` over this one's bytes from element `elementOffset` on (no copy). Binding a view with a
   * non-zero offset needs the offset aligned to `minStorageBufferOffsetAlignment`. WebGPU forbids binding one
   * buffer both read-only and read-write in the same dispatch, even at disjoint ranges: a kernel may read views
   * of one arena, or write them, not both.
   */
  view(shape: readonly number[], elementOffset = 0, label = `${this.label} view`): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (
      !shape.every((d) => Number.isInteger(d) && d >= 0) || elementOffset < 0 ||
      elementOffset + size > this.size
    ) {
      throw new GpuValidationError(
        `view of '${this.label}'`,
        `shape [${shape.join(", ")}] at element ${elementOffset} does not fit in shape [${
          this.shape.join(", ")
        }]`,
      );
    }
    return new Tensor(this.buffer, [...shape], this.dtype, label, this.byteOffset + elementOffset * 4, null);
  }

  /** True when the tensor covers its whole buffer from byte 0. */
  get isWhole(): boolean {
    return this.byteOffset === 0 && paddedBytes(this.size) === this.buffer.size;
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Bytes of the elements (without padding). */
  get byteSize(): number {
    return this.size * 4;
  }

  /** Frees the buffer (a view frees nothing: its parent owns the buffer). */
  destroy(): void {
    if (!this.release) return;
    this.buffer.destroy();
    this.release();
  }
}

/** Options of {@linkcode createTensor}. */
export interface TensorOptions {
  label?: string;
  /** Initial contents; length must equal the shape's element count. Zero-filled otherwise. */
  data?: ArrayLike<number> | HostArray;
}

/** Bytes allocated for `elements` 4-byte elements: padded to 16, at least 16. */
export function paddedBytes(elements: number): number {
  return Math.max(16, Math.ceil((elements * 4) / 16) * 16);
}

/**
 * Allocates a tensor inside an out-of-memory error scope, so a failed allocation names the tensor and the
 * requested bytes instead of poisoning the device.
 *
 * @example
 * ```ts
 * import { createTensor, readTensor, requestGpu } from "./mod.ts";
 * const gpu = await requestGpu();
 * const t = await createTensor(gpu, [2, 3], "f32", { data: [1, 2, 3, 4, 5, 6] });
 * console.log(await readTensor(gpu, t));
 * ```
 */
export async function createTensor(
  gpu: Gpu,
  shape: readonly number[],
  dtype: DType = "f32",
  options: TensorOptions = {},
): Promise<Tensor> {
  gpu.check();
  const label = options.label ?? `tensor(${shape.join("x")})`;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new GpuValidationError(`createTensor '${label}'`, `bad shape [${shape.join(", ")}]`);
    }
  }
  const elements = shape.reduce((a, b) => a * b, 1);
  const bytes = paddedBytes(elements);
  const limit = gpu.device.limits.maxBufferSize;
  if (bytes > limit) throw new OutOfMemoryError(label, bytes, limit);
  const device = gpu.device;
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  const buffer = device.createBuffer({ label, size: bytes, usage: USAGE, mappedAtCreation: !!options.data });
  if (options.data) {
    if (options.data.length !== elements) {
      buffer.unmap();
      buffer.destroy();
      await device.popErrorScope();
      await device.popErrorScope();
      throw new GpuValidationError(
        `createTensor '${label}'`,
        `data has ${options.data.length} elements, shape [${shape.join(", ")}] needs ${elements}`,
      );
    }
    const view = hostView(buffer.getMappedRange(), dtype);
    view.set(options.data as ArrayLike<number>);
    buffer.unmap();
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (oom) throw new OutOfMemoryError(label, bytes, limit);
  if (validation) throw new GpuValidationError(`createTensor '${label}'`, validation.message);
  gpu.memory.allocate(bytes);
  let released = false;
  return new Tensor(buffer, [...shape], dtype, label, 0, () => {
    if (!released) gpu.memory.free(bytes);
    released = true;
  });
}

/** Writes host data into a tensor (queue order: before any later submit). */
export function writeTensor(gpu: Gpu, tensor: Tensor, data: HostArray, elementOffset = 0): void {
  if (elementOffset + data.length > tensor.size) {
    throw new GpuValidationError(
      `writeTensor '${tensor.label}'`,
      `writing ${data.length} elements at ${elementOffset} exceeds its ${tensor.size} elements`,
    );
  }
  gpu.device.queue.writeBuffer(
    tensor.buffer,
    tensor.byteOffset + elementOffset * 4,
    data as unknown as BufferSource,
  );
}

/** A typed view of raw bytes for a dtype. */
export function hostView(bytes: ArrayBuffer, dtype: DType): HostArray {
  switch (dtype) {
    case "f32":
      return new Float32Array(bytes);
    case "u32":
      return new Uint32Array(bytes);
    case "i32":
      return new Int32Array(bytes);
  }
}
