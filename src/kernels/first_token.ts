/**
 * The first token's vector of each sequence (the input of sequence-classification heads) and its backward.
 *
 * @module
 */
import forwardWgsl from "../../shaders/first_token_forward.wgsl" with { type: "text" };
import backwardWgsl from "../../shaders/first_token_backward.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, groups, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSize } from "./shapes.ts";

const WG = 256;
const FORWARD: KernelSource = {
  file: "first_token_forward.wgsl",
  code: forwardWgsl,
  bindings: ["read_write", "read", "uniform"],
};
const BACKWARD: KernelSource = {
  file: "first_token_backward.wgsl",
  code: backwardWgsl,
  bindings: ["read_write", "read", "uniform"],
};

/** Dimensions: B sequences of T tokens of C channels. */
export interface FirstTokenDims {
  B: number;
  T: number;
  C: number;
}

function params(d: FirstTokenDims): ArrayBuffer {
  return new ParamPack().u32(d.B).u32(d.T).u32(d.C).bytes();
}

/** Prepares `out (B, C) = inp[:, 0, :]` for `inp (B, T, C)`. */
export async function firstTokenForward(
  gpu: Gpu,
  t: { out: Tensor; inp: Tensor },
  d: FirstTokenDims,
): Promise<Dispatch> {
  assertSize("firstTokenForward", "out", t.out, d.B * d.C, "B*C");
  assertSize("firstTokenForward", "inp", t.inp, d.B * d.T * d.C, "B*T*C");
  const kernel = await gpu.pipelines.get(FORWARD, { WG });
  return prepareDispatch(gpu, kernel, [t.out, t.inp], params(d), [groups(d.B * d.C, WG)]);
}

/** Prepares `dinp (B, T, C) = dout` at t = 0 and 0 elsewhere (written, not accumulated). */
export async function firstTokenBackward(
  gpu: Gpu,
  t: { dinp: Tensor; dout: Tensor },
  d: FirstTokenDims,
): Promise<Dispatch> {
  assertSize("firstTokenBackward", "dinp", t.dinp, d.B * d.T * d.C, "B*T*C");
  assertSize("firstTokenBackward", "dout", t.dout, d.B * d.C, "B*C");
  const kernel = await gpu.pipelines.get(BACKWARD, { WG });
  return prepareDispatch(gpu, kernel, [t.dinp, t.dout], params(d), grid1d(gpu, d.B * d.T * d.C, WG));
}
