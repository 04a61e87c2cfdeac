/**
 * `attribute()` for Marian translation checkpoints: AD-DROP's attribution of one encoder self-attention layer
 * for every source of a file, without dropout. The decoder reads the row's `target` when the file has one
 * (teacher forcing, as in training), else the model's own greedy translation; the pseudo-labels are the
 * argmax at every target position, and F = -CE against them (mean over the target tokens), as AD-DROP's
 * training step uses it. `grad` gives dF/dA through decoder and encoder, `ig` integrates it along the scaled
 * probabilities (`marian_ig.ts`, `igSteps` steps), `attention` gives the probabilities.
 * Per example: the source tokens, the translation the decoder read, the pseudo-labels (as tokens), the scores
 * [heads][Ts][Ts] and, with `p`, the candidate region and a q-draw's dropped positions.
 *
 * @module
 */
import { readExamples } from "../data/examples.ts";
import { type Gpu, requestGpu } from "../gpu/device.ts";
import { CommandBatch, type Dispatch } from "../gpu/encoder.ts";
import { readMany } from "../gpu/readback.ts";
import { createTensor } from "../gpu/tensor.ts";
import { pseudoLabelGrad } from "../kernels/pseudo_label.ts";
import { loadMarian, MarianModel } from "../model/marian.ts";
import { greedyGenerateCached } from "../model/marian_decode.ts";
import { IGNORE_INDEX } from "../model/tokenizer.ts";
import {
  type AttributedExample,
  type AttributeOptions,
  candidateRegion,
  cube,
  writeAttribution,
} from "./attribute_run.ts";
import { collatePairs, loadTranslationTokenizers } from "./translate.ts";
import {
  buildMarianIntegratedGradients,
  createMarianIgBuffers,
  destroyMarianIgBuffers,
} from "./marian_ig.ts";

/** {@linkcode attribute}'s options for translation: the source (and optional target) columns. */
export type TranslationAttributeOptions = AttributeOptions & { sourceColumn?: string; targetColumn?: string };

/** Attribution of encoder layer `o.layer` for every source of `o.input`; writes the JSON (and HTML) files. */
export async function attributeTranslation(o: TranslationAttributeOptions): Promise<AttributedExample[]> {
  using cleanup = new DisposableStack();
  const gpu: Gpu = o.gpu ?? await requestGpu();
  if (!o.gpu) cleanup.defer(() => gpu.destroy());
  const loaded = await loadMarian(gpu, o.model);
  cleanup.defer(() => loaded.store.destroy());
  const cfg = loaded.cfg;
  if (!Number.isInteger(o.layer) || o.layer < 0 || o.layer >= cfg.encoderLayers) {
    throw new RangeError(`--layer ${o.layer}: the encoder has layers 0..${cfg.encoderLayers - 1}`);
  }
  const maxLength = Math.min(o.maxLength ?? 128, cfg.maxPositionEmbeddings);
  const tok = await loadTranslationTokenizers(o.model, { maxLength });
  const m = await MarianModel.create(gpu, loaded, {
    maxBatch: 1,
    maxLength,
    dropout: 0,
    attentionDropout: 0,
  });
  cleanup.defer(() => m.destroy());
  const NH = cfg.encoderHeads;
  const V = cfg.vocabSize;
  const f = (label: string, n: number) => createTensor(gpu, [n], "f32", { label });
  const scoresBuf = await f("attribution scores", NH * maxLength * maxLength);
  const thrBuf = await f("threshold", NH * maxLength);
  const maskBuf = await f("mask", NH * maxLength * maxLength);
  const dlogitsBuf = await f("dlogits", maxLength * V);
  for (const t of [scoresBuf, thrBuf, maskBuf, dlogitsBuf]) cleanup.defer(() => t.destroy());
  const ig = o.method === "ig" ? await createMarianIgBuffers(m) : null;
  if (ig) cleanup.defer(() => destroyMarianIgBuffers(ig));
  // The integrated-gradients dispatches of each length, prepared once (they bind the same buffers).
  const igLists = new Map<number, Dispatch[]>();
  cleanup.defer(() => [...igLists.values()].flat().forEach((d) => d.destroy()));
  const reader = readExamples(o.input, {
    textColumn: o.sourceColumn ?? "source",
    labelColumn: o.targetColumn ?? "target",
    requireLabel: false,
  });
  const token = (id: number) => tok.target.tokenizer.id_to_token(id) ?? String(id);
  const out: AttributedExample[] = [];
  for await (const ex of reader) {
    const source = tok.source.encode(ex.text).ids;
    const target = ex.label !== undefined && ex.label !== ""
      ? tok.target.encode(String(ex.label)).ids
      : (await greedyGenerateCached(m, [source], { maxNewTokens: maxLength }))[0];
    const batch = collatePairs([{ source, target }], cfg.padTokenId, cfg.decoderStartTokenId);
    const { T } = batch;
    const Ts = source.length;
    const scores = scoresBuf.view([1, NH, T, T]);
    const dlogits = dlogitsBuf.view([T, V]);
    const prog = await m.program(1, T, "eval", {
      attribution: { dlogits, dprobs: new Map([[o.layer, scores]]) },
    }, `attribute:${o.layer}`);
    m.writeBatch(batch);
    m.setStep(o.seed ?? 42, 0);
    // One submit: the clean pass, then the attribution.
    const cmd = new CommandBatch(gpu, "attribute translation").run(
      ...prog.encoderForward,
      ...prog.decoderForward,
    );
    if (o.method === "grad") {
      cmd.run(
        await pseudoLabelGrad(gpu, { dlogits, logits: prog.logits, targets: m.inputs.targets.view([T]) }, {
          rows: T,
          L: V,
          mode: "negative_ce",
        }),
        ...prog.attributionBackward,
      );
    } else if (o.method === "ig") {
      let list = igLists.get(T);
      if (!list) {
        list = await buildMarianIntegratedGradients(
          m,
          prog,
          [o.layer],
          new Map([[o.layer, scores]]),
          dlogits,
          ig!,
          {
            steps: o.igSteps ?? 20,
            mode: "eval",
            key: "attribute",
          },
        );
        igLists.set(T, list);
      }
      cmd.run(...list);
    }
    cmd.submit();
    // The pseudo-labels: the clean logits' argmax where the pair has a target token. Integrated gradients
    // overwrite the logits but keep that argmax in ig.pseudo (-100 elsewhere); the other methods leave them.
    const [full, labels] = await readMany(gpu, [
      o.method === "attention" ? prog.encLayers[o.layer].probs : scores,
      ig ? ig.pseudo.view([T]) : prog.logits,
    ]);
    const pseudo = Array.from(batch.labels!).map((y, t) =>
      y === IGNORE_INDEX ? null : ig ? labels[t] : argmaxRow(labels as Float32Array, t, V)
    );
    // The source's own Ts x Ts block of each head.
    const result = new Float32Array(NH * Ts * Ts);
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < Ts; i++) {
        result.set(full.subarray((h * T + i) * T, (h * T + i) * T + Ts), (h * Ts + i) * Ts);
      }
    }
    const item: AttributedExample = {
      tokens: source.map(token),
      pseudo_label: pseudo.slice(0, target.length),
      label: pseudo.slice(0, target.length).map((c) => (c === null ? null : token(c))),
      scores: cube(result, NH, Ts),
      translation: target.map(token),
    };
    if (o.p !== undefined) {
      Object.assign(
        item,
        await candidateRegion(gpu, result, {
          scores: scoresBuf.view([1, NH, Ts, Ts]),
          thr: thrBuf.view([NH * Ts]),
          mask: maskBuf.view([1, NH, Ts, Ts]),
          lengths: m.inputs.lengths.view([1]),
          rng: m.inputs.rng,
        }, { NH, T: Ts, p: o.p, q: o.q ?? 0.2, layer: o.layer }),
      );
    }
    out.push(item);
  }
  await writeAttribution(o, out);
  return out;
}

function argmaxRow(x: Float32Array, row: number, V: number): number {
  let best = 0;
  for (let v = 1; v < V; v++) if (x[row * V + v] > x[row * V + best]) best = v;
  return best;
}
