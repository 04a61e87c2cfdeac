/**
 * The `lanes` layouts of GPUs. Row kernels (softmax, the attention's row passes): up to 32 neighbouring
 * invocations share a row, so that a warp's loads and stores cover consecutive addresses; their reductions are
 * shaders/row_lanes.wgsl. Column sums (the bias gradient, LayerNorm's parameter gradients, the embedding
 * backward): 32 neighbouring columns per workgroup, 8 lanes of terms each; their reduction is
 * shaders/column_lanes.wgsl.
 *
 * @module
 */
import columnLanesWgsl from "../../shaders/column_lanes.wgsl" with { type: "text" };
import rowLanesWgsl from "../../shaders/row_lanes.wgsl" with { type: "text" };

/** `code` with the lanes helpers appended (after it, so compile errors keep the file's own line numbers). */
export function withRowLanes(code: string): string {
  return `${code}\n${rowLanesWgsl}`;
}

/**
 * Invocations per row (the shaders' LANES) over rows of `cols` floats read as vec4s: the largest power of two up
 * to 32 and up to cols / 4, so every lane has at least one vec4.
 */
export function rowLanes(cols: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, Math.min(32, cols / 4))));
}

/** The column-sum kernels' `lanes` workgroup: WG invocations, COLS columns (so WG / COLS lanes per column). */
export const COLUMN_LANES = { WG: 256, COLS: 32 } as const;

/** `code` with the column-sum reduction appended (after it, so compile errors keep the file's line numbers). */
export function withColumnLanes(code: string): string {
  return `${code}\n${columnLanesWgsl}`;
}
