/**
 * CPU reference of the column-block copy: the specification `src/kernels/copy_columns.ts` is tested against.
 *
 * @module
 */
import type { CopyColumnsDims } from "../kernels/copy_columns.ts";

/** `out[r * outStride + outOffset + c] = inp[r * inpStride + inpOffset + c]` for `r < rows`, `c < width`. */
export function copyColumns(
  out: Float32Array,
  inp: Float32Array,
  { rows, width, outStride, outOffset, inpStride, inpOffset }: CopyColumnsDims,
): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) out[r * outStride + outOffset + c] = inp[r * inpStride + inpOffset + c];
  }
}
