/**
 * AdamW with `torch.optim.AdamW` semantics: the per-step scalars live in a small `hyper` buffer the training
 * loop rewrites each step (see {@linkcode adamwHyper}), the gradient-clipping coefficient in a 1-element
 * buffer written by `gradNorm` on the GPU, so a prepared step replays with no CPU readback.
 *
 * Binding rules: `param`, `m` and `v` are written and `grad`, `hyper`, `clip` read in one dispatch, so the
 * written tensors must not share a buffer with the read ones (views of one arena may be written together).
 * Views must start at an offset aligned to `minStorageBufferOffsetAlignment`.
 *
 * @module
 */
import adamwUpdateWgsl from "../../shaders/adamw_update.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, type Grid, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { Kernel, KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSameSize, assertSize, ShapeError } from "./shapes.ts";
import { elementBinding, type ElementRange, splitVec4 } from "./split.ts";

const WG = 256;
const BINDINGS = ["read_write", "read_write", "read_write", "read", "read", "read", "uniform"] as const;
const BODY: KernelSource = { file: "adamw_update.wgsl", code: adamwUpdateWgsl, bindings: BINDINGS };
const TAIL: KernelSource = { ...BODY, entryPoint: "main_tail" };

/** Number of f32 values of the `hyper` buffer. */
export const ADAMW_HYPER_SIZE = 8;

/** Hyper-parameters of one AdamW step. */
export interface AdamwHyperOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (torch's `weight_decay`); applied only to tensors prepared with `weightDecay: true`. */
  weightDecay: number;
  /** 1-based step number `t` of the bias corrections. */
  step: number;
}

/**
 * Packs the `hyper` buffer for step `t`, computing the derived scalars in double precision as torch does in
 * Python: `[beta1, 1 - beta1, beta2, 1 - beta2, eps, 1 - lr * wd, lr / (1 - beta1^t), sqrt(1 - beta2^t)]`.
 *
 * @example
 * ```ts
 * import { adamwHyper } from "./mod.ts";
 * const h = adamwHyper({ lr: 2e-5, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 });
 * console.log(h.length); // 8; write it with writeTensor(gpu, hyper, h) before each step
 * ```
 */
export function adamwHyper(h: AdamwHyperOptions): Float32Array {
  if (!Number.isInteger(h.step) || h.step < 1) {
    throw new RangeError(`adamwHyper: step must be an integer >= 1, got ${h.step}`);
  }
  for (const [name, b] of [["beta1", h.beta1], ["beta2", h.beta2]] as const) {
    if (!(b >= 0 && b < 1)) throw new RangeError(`adamwHyper: ${name} must be in [0, 1), got ${b}`);
  }
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  return new Float32Array([
    h.beta1,
    1 - h.beta1,
    h.beta2,
    1 - h.beta2,
    h.eps,
    1 - h.lr * h.weightDecay,
    h.lr / bc1,
    Math.sqrt(bc2),
  ]);
}

/** Options of {@linkcode adamwUpdate}. */
export interface AdamwOptions {
  /** Whether this tensor gets weight decay (torch convention: off for biases and LayerNorm weights). */
  weightDecay: boolean;
}

/**
 * Prepares one AdamW step of one parameter tensor: one dispatch per binding-sized range of whole vec4s plus one
 * for the last `size % 4` elements. `hyper` holds {@linkcode ADAMW_HYPER_SIZE} floats from
 * {@linkcode adamwHyper}; `clip` one float (1 for no clipping).
 *
 * @example
 * ```ts
 * import { adamwHyper, adamwUpdate, createTensor, readTensor, requestGpu, runDispatches, writeTensor } from "./mod.ts";
 * const gpu = await requestGpu();
 * const param = await createTensor(gpu, [3], "f32", { data: [1, 2, 3] });
 * const grad = await createTensor(gpu, [3], "f32", { data: [0.5, -0.5, 0] });
 * const m = await createTensor(gpu, [3]);
 * const v = await createTensor(gpu, [3]);
 * const hyper = await createTensor(gpu, [8]);
 * const clip = await createTensor(gpu, [1], "f32", { data: [1] });
 * const step = await adamwUpdate(gpu, { param, m, v, grad, hyper, clip }, { weightDecay: true });
 * writeTensor(gpu, hyper, adamwHyper({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 }));
 * await runDispatches(gpu, step);
 * console.log(await readTensor(gpu, param)); // about [0.899, 2.098, 2.997]
 * ```
 */
export async function adamwUpdate(
  gpu: Gpu,
  t: { param: Tensor; m: Tensor; v: Tensor; grad: Tensor; hyper: Tensor; clip: Tensor },
  o: AdamwOptions,
): Promise<Dispatch[]> {
  const k = "adamwUpdate";
  assertSameSize(k, { param: t.param, m: t.m, v: t.v, grad: t.grad });
  assertSize(k, "hyper", t.hyper, ADAMW_HYPER_SIZE, "ADAMW_HYPER_SIZE");
  assertSize(k, "clip", t.clip, 1, "1");
  for (const [name, x] of Object.entries(t)) {
    if (x.dtype !== "f32") throw new ShapeError(`${k}: '${name}' has dtype ${x.dtype}, expected f32`);
  }
  const decay = o.weightDecay ? 1 : 0;
  const split = splitVec4(gpu, t.param.size);
  const body = await gpu.pipelines.get(BODY, { WG });
  const prepare = (kernel: Kernel, r: ElementRange, skip: number, grid: Grid) => {
    const bind = [t.param, t.m, t.v, t.grad].map((x) => elementBinding(x, r));
    const params = new ParamPack().u32(r.count).u32(decay).u32(skip).bytes();
    return prepareDispatch(gpu, kernel, [...bind, t.hyper, t.clip], params, grid);
  };
  const out = split.body.map((r) => prepare(body, r, 0, grid1d(gpu, r.count / 4, WG)));
  if (split.tail) out.push(prepare(await gpu.pipelines.get(TAIL), split.tail, split.tail.skip, [1]));
  return out;
}
