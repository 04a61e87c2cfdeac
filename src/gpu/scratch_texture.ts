/**
 * Scratch textures that kernels copy their operands into before a dispatch (software adapters read textures
 * faster than storage buffers, see the README's speed notes).
 *
 * @module
 */
import type { Gpu } from "./device.ts";

const scratchTextures = new WeakMap<Gpu, Map<string, GPUTexture[]>>();

/**
 * An rgba32float scratch texture of `role` on this device (the matmul's packed operands, the attention
 * products' operands), at least `width` x `height` texels. Shared by every user of the role, who must record
 * its copy into it right before each use. Each role keeps the textures it has made: a request takes the
 * smallest that fits, or makes one of its own size (never the largest width by the largest height seen: an LM
 * head's wide operand and its tall one would then need 14,526 x 16,380 texels, 3.6 GiB, where each alone needs
 * 114 and 128 MiB). Counted in `gpu.memory`.
 */
export function scratchTexture(gpu: Gpu, role: string, width: number, height: number): GPUTexture {
  let byRole = scratchTextures.get(gpu);
  if (!byRole) scratchTextures.set(gpu, byRole = new Map());
  const have = byRole.get(role) ?? [];
  byRole.set(role, have);
  const fits = have.filter((t) => t.width >= width && t.height >= height);
  if (fits.length) return fits.reduce((a, b) => a.width * a.height <= b.width * b.height ? a : b);
  // Never powers of two: llvmpipe compiles a shader variant per power-of-two-ness of each bound texture's width
  // and height (one compile of matmul_packed.wgsl takes ~20 s here), so every packing texture has the same
  // kind of size; and a power-of-two row pitch (4 KiB at 256 texels) measured 5% slower, by cache aliasing.
  const max = gpu.device.limits.maxTextureDimension2D;
  const nonPow2 = (x: number) => {
    const v = Math.max(3, x);
    return Math.min(max - 1, (v & (v - 1)) === 0 ? v + 1 : v);
  };
  const size = [nonPow2(width), nonPow2(height)];
  const t = gpu.device.createTexture({
    label: `scratch ${role}`,
    size,
    format: "rgba32float",
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  gpu.memory.allocate(size[0] * size[1] * 16);
  have.push(t);
  return t;
}
