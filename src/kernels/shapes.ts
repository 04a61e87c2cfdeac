/**
 * Shape checks shared by the kernel wrappers: a wrong shape is an error naming the kernel, the tensor and both
 * shapes, before anything reaches the GPU.
 *
 * @module
 */
import type { Tensor } from "../gpu/tensor.ts";

/** Raised when a kernel wrapper gets tensors of the wrong shape. */
export class ShapeError extends Error {
  override name = "ShapeError";
}

/** Throws unless every tensor has the same element count. */
export function assertSameSize(kernel: string, tensors: Record<string, Tensor>): void {
  const entries = Object.entries(tensors);
  const [name0, t0] = entries[0];
  for (const [name, t] of entries.slice(1)) {
    if (t.size !== t0.size) {
      throw new ShapeError(
        `${kernel}: '${name}' has shape [${t.shape}] (${t.size} elements), ` +
          `'${name0}' has [${t0.shape}] (${t0.size}); they must match`,
      );
    }
  }
}

/** Throws unless the tensor has exactly `size` elements. */
export function assertSize(kernel: string, name: string, t: Tensor, size: number, expected: string): void {
  if (t.size !== size) {
    throw new ShapeError(
      `${kernel}: '${name}' has shape [${t.shape}] (${t.size} elements), expected ${expected} = ${size} elements`,
    );
  }
}
