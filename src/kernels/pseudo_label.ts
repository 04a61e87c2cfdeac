/**
 * The gradient that starts AD-DROP's attribution backward from the clean pass's logits: the one-hot of each
 * row's argmax (sequence classification: d(pseudo-label logit)/dlogits) or -dLoss/dlogits of the cross-entropy
 * against the argmax labels (token classification, rows with target -100 ignored).
 *
 * @module
 */
import pseudoLabelWgsl from "../../shaders/pseudo_label_grad.wgsl" with { type: "text" };
import pseudoLabelIdsWgsl from "../../shaders/pseudo_label_ids.wgsl" with { type: "text" };
import type { Gpu } from "../gpu/device.ts";
import { type Dispatch, grid1d, prepareDispatch } from "../gpu/encoder.ts";
import { ParamPack } from "../gpu/params.ts";
import type { KernelSource } from "../gpu/pipeline.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { assertSize, ShapeError } from "./shapes.ts";
import { blockView, splitRowsOf } from "./split.ts";

const SOURCE: KernelSource = {
  file: "pseudo_label_grad.wgsl",
  code: pseudoLabelWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};

/** `onehot`: sequence classification; `negative_ce`: token classification. */
export type PseudoLabelMode = "onehot" | "negative_ce";

/** Prepares dlogits (rows, L) from logits (rows, L); `targets` (rows, i32) marks ignored rows for `negative_ce`. */
export async function pseudoLabelGrad(
  gpu: Gpu,
  t: { dlogits: Tensor; logits: Tensor; targets: Tensor },
  d: { rows: number; L: number; mode: PseudoLabelMode },
): Promise<Dispatch> {
  const k = "pseudoLabelGrad";
  assertSize(k, "dlogits", t.dlogits, d.rows * d.L, "rows*L");
  assertSize(k, "logits", t.logits, d.rows * d.L, "rows*L");
  assertSize(k, "targets", t.targets, d.rows, "rows");
  if (t.targets.dtype !== "i32") throw new ShapeError(`${k}: 'targets' must be i32, got ${t.targets.dtype}`);
  const kernel = await gpu.pipelines.get(SOURCE, { WG: 256, MODE: d.mode === "onehot" ? 0 : 1 });
  return prepareDispatch(
    gpu,
    kernel,
    [t.dlogits, t.logits, t.targets],
    new ParamPack().u32(d.rows).u32(d.L).bytes(),
    [1],
  );
}

const IDS: KernelSource = {
  file: "pseudo_label_ids.wgsl",
  code: pseudoLabelIdsWgsl,
  bindings: ["read_write", "read", "read", "uniform"],
};

/**
 * Prepares `labels[r]` (rows, i32) = the argmax of logits row r, or -100 where `targets[r]` is -100: the fixed
 * pseudo-labels of token classification's integrated gradients. Binds the tensors whole.
 */
export async function pseudoLabelIds(
  gpu: Gpu,
  t: { labels: Tensor; logits: Tensor; targets: Tensor },
  d: { rows: number; L: number },
): Promise<Dispatch> {
  return (await pseudoLabelIdsSplit(gpu, t, d, false))[0];
}

/**
 * {@linkcode pseudoLabelIds} in one dispatch, or one per row block where the logits exceed the binding limit
 * (an LM head's).
 */
export async function pseudoLabelIdsSplit(
  gpu: Gpu,
  t: { labels: Tensor; logits: Tensor; targets: Tensor },
  d: { rows: number; L: number },
  split = true,
): Promise<Dispatch[]> {
  const k = "pseudoLabelIds";
  assertSize(k, "labels", t.labels, d.rows, "rows");
  assertSize(k, "logits", t.logits, d.rows * d.L, "rows*L");
  assertSize(k, "targets", t.targets, d.rows, "rows");
  for (const name of ["labels", "targets"] as const) {
    if (t[name].dtype !== "i32") throw new ShapeError(`${k}: '${name}' must be i32, got ${t[name].dtype}`);
  }
  const kernel = await gpu.pipelines.get(IDS, { WG: 256 });
  const ranges = split ? splitRowsOf(gpu, d.rows, [d.L, 1], k) : [{ first: 0, rows: d.rows }];
  return ranges.map((r) => {
    const view = (x: Tensor, w: number) => blockView(gpu, k, x.label, x, r, w);
    return prepareDispatch(
      gpu,
      kernel,
      [view(t.labels, 1), view(t.logits, d.L), view(t.targets, 1)],
      new ParamPack().u32(r.rows).u32(d.L).bytes(),
      grid1d(gpu, Math.max(r.rows, 1), 256),
    );
  });
}
