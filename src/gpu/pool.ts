/**
 * A pool of transient storage buffers (scratch space of a kernel sequence, readback staging). Parameters,
 * gradients, optimizer state and activations are allocated once per model and never come from here.
 *
 * @module
 */
import type { Gpu } from "./device.ts";

/** Free buffers by usage and size class. */
export class BufferPool {
  #free = new Map<string, GPUBuffer[]>();
  #live = 0;
  constructor(private readonly gpu: Gpu) {}

  /** Size class: the next multiple of 1/8 of the next power of two, so waste stays under 12.5%. */
  static sizeClass(bytes: number): number {
    const b = Math.max(256, bytes);
    const pow = 2 ** Math.ceil(Math.log2(b));
    const step = Math.max(256, pow / 8);
    return Math.ceil(b / step) * step;
  }

  /** Returns a buffer of at least `bytes` bytes with exactly `usage`. */
  acquire(bytes: number, usage: number, label = "pooled"): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const list = this.#free.get(`${usage}:${size}`);
    const hit = list?.pop();
    if (hit) return hit;
    this.#live++;
    return this.gpu.device.createBuffer({ label, size, usage });
  }

  /** Returns a buffer to the pool. Only release after the commands using it were submitted. */
  release(buffer: GPUBuffer): void {
    const key = `${buffer.usage}:${buffer.size}`;
    const list = this.#free.get(key) ?? [];
    list.push(buffer);
    this.#free.set(key, list);
  }

  /** Number of buffers this pool has created and not destroyed. */
  get live(): number {
    return this.#live;
  }

  /** Destroys every free buffer. */
  clear(): void {
    for (const list of this.#free.values()) {
      for (const b of list) b.destroy();
      this.#live -= list.length;
    }
    this.#free.clear();
  }
}
