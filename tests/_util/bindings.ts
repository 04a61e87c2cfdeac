/**
 * Watches the storage bindings a device creates, so split-binding tests can prove that no binding exceeds
 * `gpu.maxBindingBytes` (the limit is a soft cap below the adapter's: an oversized binding would not fail).
 *
 * @module
 */
import type { Gpu } from "../../src/gpu/device.ts";

/** The largest buffer binding seen since the watch began and the kernel (bind group label) that made it. */
export interface BindingWatch {
  max: number;
  label: string;
  /** Largest binding per bind-group label. */
  byLabel: Map<string, number>;
  /** Bind groups created per label (one per prepared dispatch). */
  count: Map<string, number>;
  /**
   * Storage bindings that end inside a vec4 before their buffer's end ("kernel: size at offset"): a kernel's
   * last partial vec4 would fall outside them.
   */
  ragged: string[];
}

/** Wraps `gpu.device.createBindGroup` to record buffer binding sizes (for the rest of the device's life). */
export function watchBindings(gpu: Gpu): BindingWatch {
  const watch: BindingWatch = { max: 0, label: "", byLabel: new Map(), count: new Map(), ragged: [] };
  const device = gpu.device;
  const create = device.createBindGroup.bind(device);
  device.createBindGroup = (desc: GPUBindGroupDescriptor) => {
    const label = desc.label ?? "";
    watch.count.set(label, (watch.count.get(label) ?? 0) + 1);
    for (const e of desc.entries) {
      const r = e.resource as GPUBufferBinding;
      if (!r || !("buffer" in r) || !r.buffer) continue;
      if ((r.buffer.usage & GPUBufferUsage.STORAGE) === 0) continue;
      const size = r.size ?? r.buffer.size - (r.offset ?? 0);
      if (size % 16 !== 0 && (r.offset ?? 0) + size < r.buffer.size) {
        watch.ragged.push(`${label}: ${size} bytes at ${r.offset ?? 0} of ${r.buffer.size}`);
      }
      watch.byLabel.set(label, Math.max(watch.byLabel.get(label) ?? 0, size));
      if (size > watch.max) {
        watch.max = size;
        watch.label = label;
      }
    }
    return create(desc);
  };
  return watch;
}
