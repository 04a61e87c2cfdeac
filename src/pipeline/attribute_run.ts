/**
 * `attribute()`: AD-DROP's attribution of one layer for every example of a file, without dropout, as JSON (and
 * an HTML page of heatmaps): per example its tokens, the pseudo-label, the scores [heads][T][T] at the example's
 * own length and, with `p`, the candidate region (0/1) and the positions a q-draw would drop.
 *
 * F, whose gradient is attributed: the clean pass's pseudo-label logit (sequence classification), -MSE with the
 * gold label (regression), or -CE against the clean pass's argmax labels at the first sub-word of every word
 * (token classification: the input is a CoNLL file, as for `predict`; its tags, if any, are not used). The
 * pseudo-labels stay those of the clean pass along the integrated-gradients path.
 *
 * @module
 */
import { readConll } from "../data/conll.ts";
import type { Gpu } from "../gpu/device.ts";
import { requestGpu } from "../gpu/device.ts";
import { CommandBatch } from "../gpu/encoder.ts";
import { InOrder, readFloats, readMany } from "../gpu/readback.ts";
import { createTensor, type HostArray, type Tensor, writeTensor } from "../gpu/tensor.ts";
import { addropMask } from "../kernels/addrop_mask.ts";
import { selectRank } from "../kernels/select.ts";
import { mseForward } from "../kernels/loss.ts";
import { scale } from "../kernels/scale.ts";
import { Encoder } from "../model/encoder.ts";
import { loadTaskModel } from "../model/model.ts";
import { buildAttributionBackward, buildProgram } from "../model/program.ts";
import { IGNORE_INDEX, loadTokenizer } from "../model/tokenizer.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { argmax } from "./evaluate.ts";
import { negativeCrossEntropy } from "./attribute_ig.ts";
import { attributionHtml } from "./attribution_html.ts";
import { isMarianCheckpoint } from "../model/marian_config.ts";
import { attributeTranslation } from "./attribute_translation.ts";
import { assertInputForHead, readTextInput } from "./data.ts";

/** Options of {@linkcode attribute}. */
export interface AttributeOptions {
  model: string;
  input: string;
  layer: number;
  method: "grad" | "ig" | "attention";
  output: string;
  p?: number;
  q?: number;
  seed?: number;
  igSteps?: number;
  html?: string;
  maxLength?: number;
  textColumn?: string;
  textPairColumn?: string;
  /** Translation checkpoints: the source column (default `source`) and the optional target column (`target`). */
  sourceColumn?: string;
  targetColumn?: string;
  gpu?: Gpu;
}

/**
 * One example's attribution. Token classification: `pseudo_label` and `label` hold one entry per token, null
 * where no loss applies (special tokens and later sub-words of a word).
 */
export interface AttributedExample {
  tokens: string[];
  pseudo_label: number | (number | null)[];
  label: string | (string | null)[];
  scores: number[][][];
  candidates?: number[][][];
  dropped?: number[][][];
  /** Translation checkpoints: the target tokens the decoder read (the row's target, or the greedy output). */
  translation?: string[];
}

/** Computes the attribution of every example and writes the JSON (and HTML) files. */
export async function attribute(o: AttributeOptions): Promise<AttributedExample[]> {
  if (await isMarianCheckpoint(o.model)) return await attributeTranslation(o);
  const gpu = o.gpu ?? await requestGpu();
  const model = await loadTaskModel(gpu, o.model).catch((e) => {
    if (!o.gpu) gpu.destroy();
    throw e;
  });
  const cfg = model.cfg;
  const token = cfg.head === "token_classification";
  try {
    if (!Number.isInteger(o.layer) || o.layer < 0 || o.layer >= cfg.numLayers) {
      throw new RangeError(`--layer ${o.layer}: the model has layers 0..${cfg.numLayers - 1}`);
    }
    assertInputForHead(o.input, token);
  } catch (e) {
    model.store.destroy();
    if (!o.gpu) gpu.destroy();
    throw e;
  }
  const maxLength = Math.min(o.maxLength ?? 128, cfg.maxSequenceLength);
  const tok = await loadTokenizer(o.model, { maxLength, typeIds: cfg.typeVocabSize > 1 });
  const enc = await Encoder.create(gpu, cfg, model.store, {
    maxBatch: 1,
    maxLength,
    hiddenDropout: 0,
    attentionDropout: 0,
  });
  const NH = cfg.numHeads;
  const L = cfg.numLabels;
  const alpha = await createTensor(gpu, [1], "f32", { label: "ig alpha", data: [1] });
  const maxProbs = NH * maxLength * maxLength;
  const scoresBuf = await createTensor(gpu, [maxProbs], "f32", { label: "attribution scores" });
  const thrBuf = await createTensor(gpu, [NH * maxLength], "f32", { label: "threshold" });
  const maskBuf = await createTensor(gpu, [maxProbs], "f32", { label: "mask" });
  const rowsMax = token ? maxLength : 1;
  const dlogitsBuf = await createTensor(gpu, [rowsMax * L], "f32", { label: "dlogits" });
  const pseudoBuf = token ? await createTensor(gpu, [maxLength], "i32", { label: "pseudo-labels" }) : null;
  const out: AttributedExample[] = [];
  try {
    for await (const e of encodedInputs(o, tok, token, cfg.head === "regression")) {
      const T = e.ids.length;
      const labels = e.targets;
      enc.writeBatch({
        B: 1,
        T,
        inputIds: e.ids,
        attentionMask: e.ids.map(() => 1),
        tokenTypeIds: e.typeIds,
        labels,
      });
      enc.setStep(o.seed ?? 42, 0);
      const scores = scoresBuf.view([1, NH, T, T]);
      const rows = token ? T : 1;
      const dlogits = dlogitsBuf.view([rows, L]);
      const ig = o.method === "ig";
      const prog = await buildProgram(enc, 1, T, {
        mode: "eval",
        ...(ig ? { alpha: { layer: o.layer, tensor: alpha } } : {}),
      });
      writeTensor(gpu, alpha, new Float32Array([1]));
      new CommandBatch(gpu, "clean").run(...prog.forward).submit();
      const clean = await readFloats(gpu, prog.logits);
      // Token classification: the argmax of every token that carries a loss, null elsewhere.
      const pseudo = token
        ? e.targets!.map((y, t) => (y === IGNORE_INDEX ? null : argmax(clean.subarray(t * L, (t + 1) * L))))
        : argmax(clean);
      let result: Float32Array;
      if (o.method === "attention") {
        result = await readFloats(gpu, prog.layers[o.layer].probs);
      } else {
        let start: number | Tensor;
        if (Array.isArray(pseudo)) {
          // The clean pass's labels, fixed for every step (-100 where no loss applies): written once.
          start = pseudoBuf!.view([T]);
          writeTensor(gpu, start, Int32Array.from(pseudo, (c) => c ?? IGNORE_INDEX));
        } else start = pseudo;
        const grad = await gradientStart(enc, prog, dlogits, start);
        const back = await buildAttributionBackward(
          enc,
          prog,
          dlogits,
          o.layer,
          new Map([[o.layer, scores]]),
          { mode: "eval" },
        );
        const steps = ig ? (o.igSteps ?? 20) : 1;
        const sum = new Float64Array(NH * T * T);
        let probs: Float32Array | null = null;
        // Each step's copies are submitted right after it, before the next overwrites its scores; up to four
        // wait at a time, summed in order.
        const reads = new InOrder<HostArray[]>(4);
        for (let k = 1; k <= steps; k++) {
          writeTensor(gpu, alpha, new Float32Array([ig ? k / steps : 1]));
          new CommandBatch(gpu, "attribution").run(...prog.forward, ...grad, ...back).submit();
          await reads.push(readMany(gpu, [scores, prog.layers[o.layer].probs]), ([s, a]) => {
            (s as Float32Array).forEach((v, i) => (sum[i] += v));
            probs = a as Float32Array;
          });
        }
        await reads.drain();
        // ig: A * mean_k dF(k/m A)/d(scaled A); grad: dF/dA.
        result = Float32Array.from(sum, (v, i) => (ig ? (probs![i] * v) / steps : v));
      }
      const name = (c: number) => cfg.id2label[c] ?? String(c);
      const item: AttributedExample = {
        tokens: e.ids.map((id) => tok.tokenizer.id_to_token(id) ?? String(id)),
        pseudo_label: pseudo,
        label: Array.isArray(pseudo) ? pseudo.map((c) => (c === null ? null : name(c))) : name(pseudo),
        scores: cube(result, NH, T),
      };
      if (o.p !== undefined) {
        Object.assign(
          item,
          await candidateRegion(gpu, result, {
            scores,
            thr: thrBuf.view([NH * T]),
            mask: maskBuf.view([1, NH, T, T]),
            lengths: enc.inputs.lengths.view([1]),
            rng: enc.inputs.rng,
          }, { NH, T, p: o.p, q: o.q ?? 0.2, layer: o.layer }),
        );
      }
      out.push(item);
    }
  } finally {
    for (const t of [alpha, scoresBuf, thrBuf, maskBuf, dlogitsBuf, pseudoBuf]) t?.destroy();
    enc.destroy();
    model.store.destroy();
    if (!o.gpu) gpu.destroy();
  }
  await writeAttribution(o, out);
  return out;
}

/** Writes the JSON (and, with `o.html`, the HTML page) of an attribution run. */
export async function writeAttribution(o: AttributeOptions, out: AttributedExample[]): Promise<void> {
  await writeFileAtomic(
    o.output,
    JSON.stringify({ layer: o.layer, method: o.method, p: o.p ?? null, examples: out }) + "\n",
  );
  if (o.html) {
    await writeFileAtomic(
      o.html,
      attributionHtml(out, { layer: o.layer, method: o.method, p: o.p, q: o.q ?? 0.2 }),
    );
  }
}

/**
 * The candidate region (scores at or above each row's threshold) and the positions a q-draw drops, for one
 * example's `result` scores (NH, T, T): the mask stage's kernels on `t` (views for this shape; `t.scores` is
 * overwritten with `result`).
 */
export async function candidateRegion(
  gpu: Gpu,
  result: Float32Array,
  t: { scores: Tensor; thr: Tensor; mask: Tensor; lengths: Tensor; rng: Tensor },
  d: { NH: number; T: number; p: number; q: number; layer: number },
): Promise<{ candidates: number[][][]; dropped: number[][][] }> {
  const { NH, T } = d;
  const { scores, thr, mask, lengths } = t;
  writeTensor(gpu, scores, result);
  const stage = [
    ...await selectRank(gpu, { thr, scores, lengths }, {
      R: NH * T,
      L: T,
      rowsPerExample: NH * T,
      p: d.p,
      mode: "high",
    }),
    ...await addropMask(gpu, { mask, scores, thr, lengths, rng: t.rng }, {
      B: 1,
      NH,
      T,
      q: d.q,
      mode: "high",
      layer: d.layer,
    }),
  ];
  new CommandBatch(gpu, "candidates").runOnce(...stage).submit();
  const [th, mk] = await readMany(gpu, [thr, mask]);
  return {
    candidates: cube(Float32Array.from(result, (v, i) => (v >= th[Math.floor(i / T)] ? 1 : 0)), NH, T),
    dropped: cube(Float32Array.from(mk as Float32Array, (v) => (v < 0 ? 1 : 0)), NH, T),
  };
}

/** Token ids, token types and, where the head needs them, the targets of each input example. */
async function* encodedInputs(
  o: AttributeOptions,
  tok: Awaited<ReturnType<typeof loadTokenizer>>,
  token: boolean,
  regression: boolean,
): AsyncGenerator<{ ids: number[]; typeIds: number[]; targets?: number[] }> {
  if (token) {
    // Target 0 at the first sub-word of every word, -100 elsewhere: the positions whose argmax labels F uses.
    for await (const ex of readConll(o.input, { requireLabel: false })) {
      const e = tok.encodeWords(ex.words, ex.words.map(() => 0));
      yield { ids: e.ids, typeIds: e.typeIds, targets: e.labels! };
    }
    return;
  }
  for await (const ex of readTextInput(o.input, o)) {
    const e = tok.encode(ex.text, ex.textPair ?? null);
    yield {
      ids: e.ids,
      typeIds: e.typeIds,
      targets: regression && ex.label !== undefined ? [Number(ex.label)] : undefined,
    };
  }
}

/**
 * The dispatches that write the start gradient into `dlogits` after a forward of `prog`, the pseudo-labels
 * fixed by the clean pass: its label (sequence classification) or, for token classification, the tensor of its
 * per-token labels (-100 where no loss applies).
 */
async function gradientStart(
  enc: Encoder,
  prog: Awaited<ReturnType<typeof buildProgram>>,
  dlogits: Tensor,
  pseudo: number | Tensor,
) {
  const gpu = enc.gpu;
  const { cfg } = enc;
  // -dCE/dlogits against the clean argmax labels (mean over the tokens that carry a loss), per step.
  if (typeof pseudo !== "number") return await negativeCrossEntropy(enc, prog, dlogits, pseudo);
  if (cfg.head === "regression") {
    const d = dlogits.view([1]);
    return [
      await mseForward(gpu, {
        loss: enc.grads.loss,
        dpred: d,
        pred: prog.logits.view([1]),
        target: enc.inputs.targetsF.view([1]),
      }, { N: 1 }),
      await scale(gpu, { x: d }, { s: -1 }),
    ];
  }
  // dF/dlogits of F = logits[pseudo] is the one-hot of the clean pass's label, whatever the scaled pass's
  // argmax is (the pseudo-label kernel would take the argmax again at every IG step): written once, no dispatch.
  const onehot = new Float32Array(cfg.numLabels);
  onehot[pseudo] = 1;
  writeTensor(gpu, dlogits, onehot);
  return [];
}

/** (NH, T, T) values as nested arrays, each rounded to 6 significant digits. */
export function cube(x: Float32Array, NH: number, T: number): number[][][] {
  return Array.from(
    { length: NH },
    (_, h) =>
      Array.from(
        { length: T },
        (_, i) => Array.from(x.subarray((h * T + i) * T, (h * T + i + 1) * T), (v) => +v.toPrecision(6)),
      ),
  );
}
