/**
 * Elementwise activations of the encoders, forward and backward: exact GELU (`gelu`: x Phi(x) with the normal
 * CDF to 2.5e-7 in the forward, an erf accurate to ~1.1e-7 in the backward), the tanh GELU (`gelu_new`),
 * tanh, ReLU and SiLU (`silu`, x sigmoid(x): HF `swish` / `silu`, of Marian / OPUS-MT).
 *
 * @module
 */
import activationForwardWgsl from "../../shaders/activation_forward.wgsl" with { type: "text" };
import activationBackwardWgsl from "../../shaders/activation_backward.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSameSize } from "./shapes.ts";

/** Activation functions: `gelu` (exact, erf), `gelu_new` (tanh approximation), `tanh`, `relu`, `silu`. */
export type Activation = "gelu" | "gelu_new" | "tanh" | "relu" | "silu";

/** The shaders' KIND constant of each activation. */
export const ACTIVATION_KIND: Readonly<Record<Activation, number>> = {
  gelu: 0,
  gelu_new: 1,
  tanh: 2,
  relu: 3,
  silu: 4,
};

const WG = 256;

const FORWARD: KernelSource = {
  file: "activation_forward.wgsl",
  code: activationForwardWgsl,
  bindings: ["read_write", "read", "uniform"],
};

const BACKWARD: KernelSource = {
  file: "activation_backward.wgsl",
  code: activationBackwardWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};

function kindOf(kernel: string, kind: Activation): number {
  const k = ACTIVATION_KIND[kind];
  if (k === undefined) {
    throw new RangeError(
      `${kernel}: unknown activation '${kind}', expected one of gelu, gelu_new, tanh, relu, silu`,
    );
  }
  return k;
}

/**
 * Prepares `out = f(inp)` elementwise (`out` and `inp` must be different tensors).
 *
 * @example
 * ```ts
 * import { activationForward, createTensor, readTensor, requestGpu, runDispatches } from "./mod.ts";
 * const gpu = await requestGpu();
 * const inp = await createTensor(gpu, [3], "f32", { data: [-1, 0, 1] });
 * const out = await createTensor(gpu, [3]);
 * await runDispatches(gpu, [await activationForward(gpu, { out, inp }, { kind: "gelu" })]);
 * console.log(await readTensor(gpu, out)); // ~ [-0.1587, 0, 0.8413]
 * ```
 */
export async function activationForward(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor },
  o: { kind: Activation },
): Promise<Dispatch> {
  assertSameSize("activationForward", t);
  const kernel = await gpu.pipelines.get(FORWARD, { WG, KIND: kindOf("activationForward", o.kind) });
  const n = t.out.size;
  return prepareDispatch(
    gpu,
    kernel,
    [t.out, t.inp],
    new ParamPack().u32(n).bytes(),
    grid1d(gpu, Math.ceil(n / 4), WG),
  );
}

/** Prepares `dinp = dout * f'(inp)` (`+=` with `accumulate`). */
export async function activationBackward(
  gpu: Gpu,
  t: { dinp: Tensor; dout: Tensor; inp: Tensor },
  o: { kind: Activation; accumulate?: boolean },
): Promise<Dispatch> {
  assertSameSize("activationBackward", t);
  const constants = { WG, KIND: kindOf("activationBackward", o.kind), ACC: o.accumulate ? 1 : 0 };
  const kernel = await gpu.pipelines.get(BACKWARD, constants);
  const n = t.dout.size;
  return prepareDispatch(
    gpu,
    kernel,
    [t.dinp, t.dout, t.inp],
    new ParamPack().u32(n).bytes(),
    grid1d(gpu, Math.ceil(n / 4), WG),
  );
}
