/**
 * Element-wise accumulation on the GPU: `out = s * x` (set), `out += s * x` (add) or `out = s * out * x`
 * (multiply). Integrated gradients sums its m gradients with `add` and finishes with `multiply` (A * sum / m);
 * `set` with a tensor of ones fills a per-example scale.
 *
 * @module
 */
import accumulateWgsl from "../../shaders/accumulate.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { AccumulateMode } from "../reference/accumulate.ts";
import { assertSameSize, ShapeError } from "./shapes.ts";

export type { AccumulateMode };

const WG = 256;
const SOURCE: KernelSource = {
  file: "accumulate.wgsl",
  code: accumulateWgsl,
  bindings: ["read_write", "read", "uniform"],
};
const MODES: Record<AccumulateMode, number> = { set: 0, add: 1, multiply: 2 };

/**
 * Prepares `out = s * x` (`set`), `out += s * x` (`add`) or `out = s * out * x` (`multiply`) over every element
 * (`out` and `x` the same size, different tensors).
 *
 * @example
 * ```ts
 * import { accumulate, createTensor, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const out = await createTensor(gpu, [3], "f32", { data: [1, 2, 3] });
 * const x = await createTensor(gpu, [3], "f32", { data: [10, 20, 30] });
 * await runDispatches(gpu, [await accumulate(gpu, { out, x }, { mode: "add", s: 0.5 })]);
 * console.log(await readTensor(gpu, out)); // Float32Array [6, 12, 18]
 * ```
 */
export async function accumulate(
  gpu: Gpu,
  t: { out: Tensor; x: Tensor },
  o: { mode: AccumulateMode; s?: number },
): Promise<Dispatch> {
  assertSameSize("accumulate", t);
  const s = o.s ?? 1;
  if (!Number.isFinite(s)) throw new RangeError(`accumulate: s must be finite, got ${s}`);
  const kernel = await gpu.pipelines.get(SOURCE, { WG, MODE: MODES[o.mode] });
  const n = t.out.size;
  return prepareDispatch(
    gpu,
    kernel,
    [t.out, t.x],
    new ParamPack().u32(n).f32(s).bytes(),
    grid1d(gpu, n, WG),
  );
}

/**
 * {@linkcode accumulate} over tensors of any size: one dispatch when they fit `gpu.maxBindingBytes` (exactly
 * `accumulate`), else one per range of elements bound on its own (integrated gradients' (B, NH, T, T) sums).
 * Both tensors must then start at an offset aligned to `minStorageBufferOffsetAlignment`.
 */
export async function accumulateSplit(
  gpu: Gpu,
  t: { out: Tensor; x: Tensor },
  o: { mode: AccumulateMode; s?: number },
): Promise<Dispatch[]> {
  assertSameSize("accumulateSplit", t);
  const max = gpu.maxBindingBytes;
  if (t.out.byteSize <= max && t.x.byteSize <= max) return [await accumulate(gpu, t, o)];
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  for (const [name, v] of Object.entries(t)) {
    if (v.byteOffset % align !== 0) {
      throw new ShapeError(
        `accumulateSplit: '${name}' (${v.byteSize} bytes, above the binding limit of ${max}) starts at byte ` +
          `${v.byteOffset}, not a multiple of the storage offset alignment ${align}`,
      );
    }
  }
  const cap = Math.floor(max / align) * align / 4;
  const n = t.out.size;
  const list: Dispatch[] = [];
  for (let first = 0; first < n; first += cap) {
    const count = Math.min(cap, n - first);
    const view = (v: Tensor) => v.view([count], first, `${v.label} [${first}, ${first + count})`);
    list.push(await accumulate(gpu, { out: view(t.out), x: view(t.x) }, o));
  }
  return list;
}
