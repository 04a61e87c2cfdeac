/**
 * Single-query attention for generation with a key/value cache: each example's one new query (per head) over
 * its Tk cached keys and values, or over the encoder's (cross-attention). Forward only.
 *
 * @module
 */
import attentionDecodeWgsl from "../../shaders/attention_decode.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { AttentionDecodeDims } from "../reference/attention_decode.ts";
import { assertSize, ShapeError } from "./shapes.ts";

export type { AttentionDecodeDims };

const WG = 64;
const MAX_HS = 256;
const SOURCE: KernelSource = {
  file: "attention_decode.wgsl",
  code: attentionDecodeWgsl,
  bindings: ["read_write", "read", "read", "read", "uniform"],
};

/**
 * Prepares `out (B, NH * HS)` = attention of `q` over `Tk` keys/values in `kv` with the additive `mask` (layouts
 * in {@link AttentionDecodeDims}; keys whose mask is <= -1e30 weigh exactly 0).
 */
export async function attentionDecode(
  gpu: Gpu,
  t: { out: Tensor; q: Tensor; kv: Tensor; mask: Tensor },
  d: AttentionDecodeDims,
): Promise<Dispatch> {
  const k = "attentionDecode";
  for (const [name, v] of Object.entries(d)) {
    if (name !== "scale" && !(Number.isInteger(v) && v >= 0)) {
      throw new RangeError(`${k}: ${name} = ${v}, expected an integer >= 0`);
    }
  }
  if (d.HS < 1 || d.HS > MAX_HS) throw new RangeError(`${k}: HS = ${d.HS}, expected 1..${MAX_HS}`);
  if (d.Tk < 1) throw new RangeError(`${k}: Tk = ${d.Tk}, expected >= 1`);
  const last = (stride: number, offset: number, n: number) => (d.B - 1) * stride + offset + n;
  assertSize(k, "out", t.out, d.B * d.NH * d.HS, `B*NH*HS = ${d.B * d.NH * d.HS}`);
  const need = {
    q: last(d.qStride, d.qOffset, d.NH * d.HS),
    kv: last(d.kvBatch, Math.max(d.kOffset, d.vOffset) + (d.Tk - 1) * d.kvStride, d.NH * d.HS),
    mask: last(d.maskStride, 0, d.Tk),
  };
  for (const [name, n] of Object.entries(need)) {
    const tensor = t[name as keyof typeof need];
    if (tensor.size < n) {
      throw new ShapeError(`${k}: '${name}' has ${tensor.size} elements, the layout reaches ${n}`);
    }
  }
  const kernel = await gpu.pipelines.get(SOURCE, { WG });
  return prepareDispatch(
    gpu,
    kernel,
    [t.out, t.q, t.kv, t.mask],
    attentionDecodeParams(d),
    grid1d(gpu, d.B * d.NH, WG),
  );
}

/**
 * The uniform parameters of {@linkcode attentionDecode}: for `Dispatch.setParams` on a prepared dispatch whose
 * key count changes (the same B, NH and layouts; a smaller Tk than the one it was prepared and checked with).
 */
export function attentionDecodeParams(d: AttentionDecodeDims): ArrayBuffer {
  return new ParamPack().u32(d.B).u32(d.NH).u32(d.HS).u32(d.Tk).u32(d.qStride).u32(d.qOffset)
    .u32(d.kvBatch).u32(d.kvStride).u32(d.kOffset).u32(d.vOffset).u32(d.maskStride).f32(d.scale).bytes();
}
