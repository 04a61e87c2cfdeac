/**
 * `evaluate()`: a checkpoint's metrics on a validation set (a file, a GLUE task's dev splits or CoNLL), with
 * `--label-map` to score a model on a data set with other labels (e.g. HANS with an MNLI model).
 *
 * @module
 */
import type { TokenExample } from "../data/conll.ts";
import type { Example } from "../data/examples.ts";
import type { GlueTask } from "../data/glue.ts";
import { type LabelSpace, parseLabelMap } from "../data/labels.ts";
import type { Gpu } from "../gpu/device.ts";
import { requestGpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { Encoder } from "../model/encoder.ts";
import { loadTaskModel } from "../model/model.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import { loadRunData } from "./data.ts";
import { computeMetrics, predictLogits, runSizes, sequencePredictions, wordPredictions } from "./evaluate.ts";
import { type EncodedExample, encodeTokenExample, paddedLength } from "./tokenize.ts";
import { ProgramCache } from "./train_step.ts";
import { InputError } from "../io/input_error.ts";
import { isMarianCheckpoint } from "../model/marian_config.ts";
import { evaluateTranslation } from "./translate.ts";

/** Options of {@linkcode evaluate}. */
export interface EvaluateOptions {
  model: string;
  validation?: string;
  task?: GlueTask | "conll2003";
  dataDir?: string;
  labelMap?: string;
  maxLength?: number;
  batchSize?: number;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  /** Translation checkpoints: the pair files' columns (default `source`, `target`), longest translation. */
  sourceColumn?: string;
  targetColumn?: string;
  maxNewTokens?: number;
  /** Translation: beams (default: the config's `num_beams`). */
  numBeams?: number;
  skipBadRows?: boolean;
  /** Also write the metrics as JSON here. */
  output?: string;
  gpu?: Gpu;
}

/** Metrics per validation split (keys suffixed as in training, e.g. MNLI's `_mm`). */
export async function evaluate(o: EvaluateOptions): Promise<Record<string, number>> {
  if (await isMarianCheckpoint(o.model)) {
    if (!o.validation) {
      throw new InputError("evaluate: translation needs --validation FILE (source/target pairs)");
    }
    const out = await evaluateTranslation({ ...o, validation: o.validation });
    if (o.output) await writeFileAtomic(o.output, JSON.stringify(out, null, 2) + "\n");
    return out;
  }
  const gpu = o.gpu ?? await requestGpu();
  const model = await loadTaskModel(gpu, o.model).catch((e) => {
    if (!o.gpu) gpu.destroy();
    throw e;
  });
  const cfg = model.cfg;
  const token = cfg.head === "token_classification";
  const regression = cfg.head === "regression";
  const data = await loadRunData({
    task: o.task,
    dataDir: o.dataDir,
    validation: o.validation,
    textColumn: o.textColumn ?? "text",
    textPairColumn: o.textPairColumn ?? "text_pair",
    labelColumn: o.labelColumn ?? "label",
    skipBadRows: o.skipBadRows ?? false,
    regression,
  }, false);
  if (data.validation.length === 0) {
    throw new InputError("evaluate: give --validation FILE or --task with --data-dir");
  }
  const space: LabelSpace = regression ? { kind: "regression" } : {
    kind: "classification",
    labels: cfg.id2label,
    label2id: Object.fromEntries(cfg.id2label.map((l, i) => [l, i])),
    source: "checkpoint",
  };
  const { maxLength, batchSize } = runSizes(o, cfg.maxSequenceLength);
  const tok = await loadTokenizer(o.model, { maxLength, typeIds: cfg.typeVocabSize > 1 });
  const enc = await Encoder.create(gpu, cfg, model.store, {
    maxBatch: batchSize,
    maxLength: paddedLength(maxLength, cfg.maxSequenceLength),
  });
  const programs = new ProgramCache(enc);
  const labelMap = o.labelMap ? parseLabelMap(o.labelMap) : undefined;
  const out: Record<string, number> = {};
  try {
    for (const split of data.validation) {
      const items: EncodedExample[] = token
        ? (split.examples as TokenExample[]).map((e) =>
          encodeTokenExample(tok, { words: e.words, labels: [] }, space)
        )
        : (split.examples as Example<string | number>[]).map((e) => {
          const enc = tok.encode(e.text, e.textPair ?? null);
          const id = space.kind === "regression" ? Number(e.label) : space.label2id[String(e.label)];
          return { ids: enc.ids, typeIds: enc.typeIds, target: id === undefined || labelMap ? null : id };
        });
      const pred = await predictLogits(enc, programs, items, batchSize, tok.padId);
      const spec = { task: o.task, tokenClassification: token, labelMap };
      let metrics: Record<string, number>;
      if (token) {
        const labels = cfg.id2label;
        const preds = items.map((e, i) => wordPredictions(pred.logits[i], e.wordIds ?? [], labels));
        const refs = (split.examples as TokenExample[]).map((e, i) => e.labels.slice(0, preds[i].length));
        metrics = computeMetrics(spec, preds, refs);
      } else {
        const refs = (split.examples as Example<string | number>[]).map((e) => e.label!);
        metrics = computeMetrics(spec, sequencePredictions(pred.logits, space), refs);
        if (!Number.isNaN(pred.loss)) metrics.loss = pred.loss;
      }
      for (const [k, v] of Object.entries(metrics)) out[`${k}${split.suffix}`] = v;
      out[`samples${split.suffix}`] = items.length;
    }
  } finally {
    enc.destroy();
    model.store.destroy();
    if (!o.gpu) gpu.destroy();
  }
  if (o.output) await writeFileAtomic(o.output, JSON.stringify(out, null, 2) + "\n");
  return out;
}
