/**
 * Dispatches prepared once (pipeline, bind group, uniform) and recorded many times, and command batches that
 * encode many dispatches into one compute pass and one submit.
 *
 * @module
 */
import type { Gpu } from "./device.ts";
import { GpuValidationError } from "./errors.ts";
import type { Kernel } from "./pipeline.ts";
import type { Tensor } from "./tensor.ts";

/**
 * A tensor (a whole buffer or a view), a byte range of one relative to the tensor's start (for split bindings
 * of tensors above the binding limit), or a texture (for `texture` bindings).
 */
export type Binding = Tensor | { tensor: Tensor; offset: number; size: number } | { texture: GPUTexture };

/** Workgroup counts (x, y, z). */
export type Grid = readonly [number, number?, number?];

/**
 * A kernel with its bindings and parameters fixed: record it into any number of batches. `before`, if set, is
 * recorded first, outside any compute pass (a copy the kernel depends on, e.g. into a texture).
 */
export class Dispatch {
  constructor(
    readonly kernel: Kernel,
    readonly bindGroup: GPUBindGroup,
    readonly grid: Grid,
    readonly uniform: GPUBuffer | null,
    readonly before: ((encoder: GPUCommandEncoder) => void) | null = null,
  ) {}

  /** Rewrites the uniform parameters (queue order: takes effect for batches submitted afterwards). */
  setParams(gpu: Gpu, params: ArrayBuffer): void {
    if (!this.uniform) {
      throw new GpuValidationError(this.kernel.name, "this kernel has no uniform parameters");
    }
    gpu.device.queue.writeBuffer(this.uniform, 0, params);
  }

  /** Frees the uniform buffer. */
  destroy(): void {
    this.uniform?.destroy();
  }
}

function bindingResource(b: Binding): GPUBindingResource {
  if ("texture" in b) return b.texture.createView();
  if ("tensor" in b) return bufferRange(b.tensor.buffer, b.tensor.byteOffset + b.offset, b.size);
  if (b.isWhole) return { buffer: b.buffer };
  return bufferRange(b.buffer, b.byteOffset, b.byteSize);
}

/**
 * A binding of `bytes` at `offset`, rounded up to whole vec4s where the buffer has them (tensors are padded to
 * 16 bytes). Kernels read and write `array<vec4<f32>>` and guard the last partial vec4 per component, which needs
 * that vec4 inside the binding: past a binding's end a GPU may clamp the index or drop the access (an NVIDIA
 * H200 did, so views of 3 x 37 elements lost their last 3; llvmpipe read and wrote them).
 */
function bufferRange(buffer: GPUBuffer, offset: number, bytes: number): GPUBufferBinding {
  const size = Math.min(Math.ceil(Math.max(4, bytes) / 16) * 16, buffer.size - offset);
  return { buffer, offset, size: Math.max(4, size) };
}

/**
 * Prepares a dispatch: storage bindings in the kernel's binding order, then the uniform parameters (packed by
 * the wrapper) when the kernel has a uniform binding.
 */
export function prepareDispatch(
  gpu: Gpu,
  kernel: Kernel,
  bindings: readonly Binding[],
  params: ArrayBuffer | null,
  grid: Grid,
  before: ((encoder: GPUCommandEncoder) => void) | null = null,
): Dispatch {
  const access = kernel.source.bindings;
  const wantsUniform = access[access.length - 1] === "uniform";
  const storage = wantsUniform ? access.length - 1 : access.length;
  if (bindings.length !== storage) {
    throw new GpuValidationError(kernel.name, `expected ${storage} buffer bindings, got ${bindings.length}`);
  }
  if (wantsUniform !== (params !== null)) {
    throw new GpuValidationError(
      kernel.name,
      wantsUniform ? "missing uniform parameters" : "unexpected params",
    );
  }
  const limits = gpu.device.limits;
  for (const [i, g] of grid.entries()) {
    if (g !== undefined && (g > limits.maxComputeWorkgroupsPerDimension || g < 0 || !Number.isInteger(g))) {
      throw new GpuValidationError(kernel.name, `workgroup count ${g} in dimension ${i} is out of range`);
    }
  }
  const entries: GPUBindGroupEntry[] = bindings.map((b, binding) => ({
    binding,
    resource: bindingResource(b),
  }));
  let uniform: GPUBuffer | null = null;
  if (params) {
    const size = Math.max(16, Math.ceil(params.byteLength / 16) * 16);
    uniform = gpu.device.createBuffer({
      label: `${kernel.name} params`,
      size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      mappedAtCreation: true,
    });
    new Uint8Array(uniform.getMappedRange()).set(new Uint8Array(params));
    uniform.unmap();
    entries.push({ binding: storage, resource: { buffer: uniform } });
  }
  const bindGroup = gpu.device.createBindGroup({ label: kernel.name, layout: kernel.layout, entries });
  return new Dispatch(kernel, bindGroup, grid, uniform, before);
}

/**
 * Records dispatches into as few compute passes as possible and submits them as one command buffer.
 * WebGPU orders the dispatches of a pass: each sees the writes of the ones before it.
 */
export class CommandBatch {
  readonly encoder: GPUCommandEncoder;
  #pass: GPUComputePassEncoder | null = null;
  #passes = 0;
  #transient: Dispatch[] = [];
  #submitted = false;
  dispatches = 0;

  constructor(
    private readonly gpu: Gpu,
    readonly label = "batch",
    private readonly timestamps: GPUQuerySet | null = null,
  ) {
    gpu.check(label);
    this.encoder = gpu.device.createCommandEncoder({ label });
  }

  /** Number of compute passes opened so far (one per run of dispatches between copies). */
  get passes(): number {
    return this.#passes;
  }

  #computePass(): GPUComputePassEncoder {
    if (!this.#pass) {
      const i = this.#passes++;
      const ts = this.timestamps;
      if (ts && 2 * i + 1 >= ts.count) {
        throw new GpuValidationError(this.label, `more than ${ts.count / 2} passes in a timed batch`);
      }
      this.#pass = this.encoder.beginComputePass({
        label: `${this.label} pass ${i}`,
        timestampWrites: ts
          ? { querySet: ts, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 }
          : undefined,
      });
    }
    return this.#pass;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  /** Records prepared dispatches in order. */
  run(...dispatches: Dispatch[]): this {
    for (const d of dispatches) {
      if (d.before) {
        this.#endPass();
        d.before(this.encoder);
      }
      const pass = this.#computePass();
      pass.setPipeline(d.kernel.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.grid[0], d.grid[1] ?? 1, d.grid[2] ?? 1);
      this.dispatches++;
    }
    return this;
  }

  /** Ends the current compute pass: the next dispatch opens its own (per-dispatch timestamps, `timestamps`). */
  split(): this {
    this.#endPass();
    return this;
  }

  /** Records dispatches that are destroyed after this batch is submitted (one-off calls). */
  runOnce(...dispatches: Dispatch[]): this {
    this.#transient.push(...dispatches);
    return this.run(...dispatches);
  }

  /** Copies bytes between tensors (ends the current compute pass). */
  copy(src: Tensor, dst: Tensor, bytes = src.byteSize, srcOffset = 0, dstOffset = 0): this {
    this.#endPass();
    this.encoder.copyBufferToBuffer(
      src.buffer,
      src.byteOffset + srcOffset,
      dst.buffer,
      dst.byteOffset + dstOffset,
      bytes,
    );
    return this;
  }

  /** Fills a tensor (or view; its bytes must be a multiple of 4) with zeros (ends the current compute pass). */
  zero(t: Tensor): this {
    this.#endPass();
    if (t.isWhole) this.encoder.clearBuffer(t.buffer);
    else this.encoder.clearBuffer(t.buffer, t.byteOffset, Math.ceil(t.byteSize / 4) * 4);
    return this;
  }

  /** Ends the encoder and returns the command buffer, for callers that add their own commands. */
  finish(): GPUCommandBuffer {
    this.#endPass();
    if (this.#submitted) throw new GpuValidationError(this.label, "batch was already submitted");
    this.#submitted = true;
    return this.encoder.finish();
  }

  /** Submits the batch. Returns at once; `await gpu.sync()` waits for completion. */
  submit(): void {
    this.gpu.device.queue.submit([this.finish()]);
    const transient = this.#transient.splice(0);
    if (transient.length > 0) {
      this.gpu.device.queue.onSubmittedWorkDone().then(() => transient.forEach((d) => d.destroy()));
    }
  }
}

/** Records the dispatches into one batch, submits it and waits for it to finish. */
export async function runDispatches(gpu: Gpu, dispatches: readonly Dispatch[], label = "run"): Promise<void> {
  new CommandBatch(gpu, label).run(...dispatches).submit();
  await gpu.sync(label);
}

/** Workgroups for `n` items at `perGroup` items each (at least one). */
export function groups(n: number, perGroup: number): number {
  return Math.max(1, Math.ceil(n / perGroup));
}

/**
 * A grid of `ceil(n / perGroup)` workgroups, folded into two dimensions when it exceeds the per-dimension
 * limit. Shaders recover the linear index as `gid.x + gid.y * num_workgroups.x * WG`.
 */
export function grid1d(gpu: Gpu, n: number, perGroup: number): Grid {
  const g = groups(n, perGroup);
  const max = gpu.device.limits.maxComputeWorkgroupsPerDimension;
  if (g <= max) return [g];
  const y = Math.ceil(g / max);
  return [Math.ceil(g / y), y];
}
