/**
 * Deterministic reductions: the sum (or sum of squares) of whole tensors in two stages (fixed-order partial
 * sums per workgroup, then one workgroup adding the partials in index order) and row sums. No atomics: the
 * same input gives bit-identical results on every run.
 *
 * @module
 */
import reducePartialWgsl from "../../shaders/reduce_partial.wgsl" with { type: "text" };
import reduceFinalWgsl from "../../shaders/reduce_final.wgsl" with { type: "text" };
import reduceRowsWgsl from "../../shaders/reduce_rows.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSize, ShapeError } from "./shapes.ts";
import { elementBinding, rowBinding, splitRows, splitVec4 } from "./split.ts";

const WG = 256;
const ROW_WG = 128;
/**
 * The first stage's workgroup by adapter: `WG` invocations of `ITEMS` vec4s each. Software adapters: 8 (one SIMD
 * group on llvmpipe, where each workgroup barrier of a larger group is a round of coroutine switches) of 512.
 * Hardware GPUs: 256 of 8, so that a BERT-base gradient (110M floats) spreads over 13,000 workgroups; with 8
 * invocations it ran on an NVIDIA H200 at 67 GB/s against the copy's 1393 (2026-11-27).
 */
const PARTIAL_SHAPES = { software: { WG: 8, ITEMS: 512 }, hardware: { WG: 256, ITEMS: 8 } } as const;

/** The first stage's shape on this device, and the floats one of its workgroups adds. */
function partialShape(gpu: Gpu): { WG: number; ITEMS: number; perGroup: number } {
  const s = PARTIAL_SHAPES[gpu.isSoftware ? "software" : "hardware"];
  return { ...s, perGroup: s.WG * 4 * s.ITEMS };
}

const PARTIAL: KernelSource = {
  file: "reduce_partial.wgsl",
  code: reducePartialWgsl,
  bindings: ["read_write", "read", "uniform"],
};
const PARTIAL_TAIL: KernelSource = { ...PARTIAL, entryPoint: "main_tail" };
const FINAL: KernelSource = {
  file: "reduce_final.wgsl",
  code: reduceFinalWgsl,
  bindings: ["read_write", "read", "uniform"],
};
const ROWS: KernelSource = {
  file: "reduce_rows.wgsl",
  code: reduceRowsWgsl,
  bindings: ["read_write", "read", "uniform"],
};

/** Number of partial sums the first stage writes for tensors of these element counts (at least 1). */
export function reducePartialCount(gpu: Gpu, sizes: readonly number[]): number {
  const { perGroup } = partialShape(gpu);
  let total = 0;
  for (const n of sizes) {
    const split = splitVec4(gpu, n);
    for (const r of split.body) total += Math.ceil(r.count / perGroup);
    if (split.tail) total += 1;
  }
  return Math.max(1, total);
}

/**
 * Prepares the first stage over several tensors: their sums (or sums of squares with `square`) as consecutive
 * partial sums in `partials` (exactly {@linkcode reducePartialCount} elements), in tensor order.
 */
export async function reducePartials(
  gpu: Gpu,
  t: { partials: Tensor; inputs: readonly Tensor[] },
  o: { square: boolean; kernel?: string },
): Promise<Dispatch[]> {
  const name = o.kernel ?? "reducePartials";
  const count = reducePartialCount(gpu, t.inputs.map((x) => x.size));
  assertSize(name, "partials", t.partials, count, "reducePartialCount(inputs)");
  const { WG: partialWg, ITEMS, perGroup } = partialShape(gpu);
  const constants = { WG: partialWg, ITEMS, SQUARE: o.square ? 1 : 0 };
  const body = await gpu.pipelines.get(PARTIAL, constants);
  const tail = await gpu.pipelines.get(PARTIAL_TAIL, constants);
  const out: Dispatch[] = [];
  let base = 0;
  for (const [i, x] of t.inputs.entries()) {
    if (x.dtype !== "f32") throw new ShapeError(`${name}: input ${i} has dtype ${x.dtype}, expected f32`);
    const split = splitVec4(gpu, x.size);
    for (const r of split.body) {
      const groups = Math.ceil(r.count / perGroup);
      const params = new ParamPack().u32(r.count).u32(base).u32(groups).u32(0).bytes();
      out.push(
        prepareDispatch(gpu, body, [t.partials, elementBinding(x, r)], params, grid1d(gpu, groups, 1)),
      );
      base += groups;
    }
    if (split.tail) {
      const r = split.tail;
      const params = new ParamPack().u32(r.count).u32(base).u32(1).u32(r.skip).bytes();
      out.push(prepareDispatch(gpu, tail, [t.partials, elementBinding(x, r)], params, [1]));
      base += 1;
    }
  }
  return out;
}

/**
 * Prepares `out[0] = sum(inp)` (f32, deterministic); `partials` is scratch of
 * `reducePartialCount(gpu, [inp.size])` elements.
 *
 * @example
 * ```ts
 * import { createTensor, readTensor, reducePartialCount, reduceSum, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const inp = await createTensor(gpu, [5], "f32", { data: [1, 2, 3, 4, 5] });
 * const out = await createTensor(gpu, [1]);
 * const partials = await createTensor(gpu, [reducePartialCount(gpu, [inp.size])]);
 * await runDispatches(gpu, await reduceSum(gpu, { out, partials, inp }));
 * console.log(await readTensor(gpu, out)); // Float32Array [15]
 * ```
 */
export async function reduceSum(
  gpu: Gpu,
  t: { out: Tensor; partials: Tensor; inp: Tensor },
): Promise<Dispatch[]> {
  assertSize("reduceSum", "out", t.out, 1, "1");
  const first = await reducePartials(gpu, { partials: t.partials, inputs: [t.inp] }, {
    square: false,
    kernel: "reduceSum",
  });
  const kernel = await gpu.pipelines.get(FINAL, { WG });
  const params = new ParamPack().u32(t.partials.size).bytes();
  return [...first, prepareDispatch(gpu, kernel, [t.out, t.partials], params, [1])];
}

/** Dimensions of {@linkcode reduceRowSum}: R rows of L elements. */
export interface RowSumDims {
  R: number;
  L: number;
}

/** Prepares `out[r] = sum_j inp[r, j]` for an (R, L) tensor (deterministic; split when above the binding limit). */
export async function reduceRowSum(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor },
  d: RowSumDims,
): Promise<Dispatch[]> {
  const k = "reduceRowSum";
  assertSize(k, "out", t.out, d.R, `R = ${d.R}`);
  assertSize(k, "inp", t.inp, d.R * d.L, `R*L = ${d.R}*${d.L}`);
  const kernel = await gpu.pipelines.get(ROWS, { WG: ROW_WG });
  return splitRows(gpu, d.R, d.L, k).filter((r) => r.rows > 0).map((r) =>
    prepareDispatch(
      gpu,
      kernel,
      [t.out, rowBinding(t.inp, r, d.L)],
      new ParamPack().u32(d.L).u32(r.rows).u32(r.first).bytes(),
      grid1d(gpu, r.rows, 1),
    )
  );
}
