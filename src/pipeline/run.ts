/**
 * `train()`: the staged pipeline, top to bottom:
 *   tokenize -> [AD-DROP epochs: forward -> attribute -> mask] -> forward/backward -> optimizer
 * with evaluation after each epoch, early stopping, the best epoch's checkpoint, logs and `--resume`.
 *
 * @module
 */
import type { TokenExample } from "../data/conll.ts";
import type { Example } from "../data/examples.ts";
import { GLUE_MAIN_METRIC } from "../metrics/glue.ts";
import { type LabelSpace, numLabels, parseLabelMap, resolveLabelSpace } from "../data/labels.ts";
import { type Gpu, requestGpu } from "../gpu/device.ts";
import { InOrder } from "../gpu/readback.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import {
  freshTrainerState,
  loadTrainerState,
  saveCheckpoint,
  saveTrainerState,
  type TrainerState,
} from "../model/checkpoint.ts";
import { type HeadKind, loadConfig } from "../model/config.ts";
import { Encoder } from "../model/encoder.ts";
import { loadModel } from "../model/model.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import type { TrainOptions } from "../cli/train_options.ts";
import { startedWith } from "./resume.ts";
import { recordEpoch, writeRunResults } from "./run_results.ts";
import { AdDrop, isAdDropEpoch } from "./addrop.ts";
import { limitSamples, loadRunData } from "./data.ts";
import { computeMetrics, predictLogits, sequencePredictions, wordPredictions } from "./evaluate.ts";
import { adamwSettings, Optimizer } from "./optimizer.ts";
import { batches, epochOrder, learningRate, totalSteps, warmupSteps } from "./schedule.ts";
import { type EncodedExample, encodeExample, encodeTokenExample } from "./tokenize.ts";
import { collate, paddedLength } from "./tokenize.ts";
import { ProgramCache, type StepStats, TrainStep } from "./train_step.ts";
import { InputError } from "../io/input_error.ts";
import { isMarianCheckpoint } from "../model/marian_config.ts";
import { NO_MODEL, trainTranslation } from "./translate.ts";
import { exists } from "../io/exists.ts";

/** Something the run reports: a step, an evaluation, or a line of information. */
export type RunEvent =
  | { type: "info"; message: string }
  | { type: "step"; record: StepRecord; totalSteps: number }
  | { type: "eval"; epoch: number; metrics: Record<string, number> };

/** One line of train_log.jsonl. */
export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  learning_rate: number;
  grad_norm: number;
  tokens_per_second: number;
  ad_drop: boolean;
}

/** What `train()` returns. */
export interface TrainResult {
  outputDir: string;
  bestEpoch: number | null;
  bestMetric: number | null;
  metricName: string;
  evalResults: Record<string, number>;
  steps: number;
}

/** The metric that picks the best epoch, and whether higher is better. */
export function selectionMetric(
  o: TrainOptions,
  token: boolean,
  regression: boolean,
): { name: string; higher: boolean } {
  if (o.metric) return { name: o.metric, higher: !/loss|mse/.test(o.metric) };
  if (o.task && o.task !== "conll2003") return { name: GLUE_MAIN_METRIC[o.task], higher: true };
  if (token) return { name: "f1", higher: true };
  return regression ? { name: "pearson", higher: true } : { name: "accuracy", higher: true };
}

/** Where a run executes: `gpu` reuses a device (left open afterwards) instead of requesting one. */
export interface TrainEnvironment {
  gpu?: Gpu;
}

/** Fine-tunes `options.model` on the run's data; see the README for every option. */
export async function train(
  o: TrainOptions,
  onEvent: (e: RunEvent) => void = () => {},
  env: TrainEnvironment = {},
): Promise<TrainResult> {
  if (!o.model) throw new InputError(NO_MODEL);
  if (await isMarianCheckpoint(o.model)) return await trainTranslation(o, onEvent, env);
  const info = (message: string) => onEvent({ type: "info", message });
  const outDir = o.outputDir ?? `runs/${new Date().toISOString().replace(/[:.]/g, "-")}`;
  const lastDir = `${outDir}/last`;
  const resuming = o.resume && (await exists(`${lastDir}/trainer_state.json`));
  const modelDir = resuming ? lastDir : o.model;
  const started = resuming ? await startedWith(lastDir, o) : null;

  // Everything created below is released on the way out, also when a stage throws (library callers go on).
  using cleanup = new DisposableStack();
  const gpu = env.gpu ?? await requestGpu();
  if (!env.gpu) cleanup.defer(() => gpu.destroy());
  info(`adapter: ${gpu.description.name} (${gpu.description.kind})`);
  const base = await loadConfig(`${o.model}/config.json`);
  const all = await loadRunData({ ...o, regression: base.head === "regression" }, true);
  // The labels come from the whole training file, as in run_glue.py, so a --max-train-samples subset that
  // lacks a class still scores validation examples of it.
  const data = limitSamples(all, o, info);
  if (data.skipped) info(`skipped ${data.skipped} bad rows (--skip-bad-rows)`);
  const token = data.kind === "token";
  const regression = data.regression;
  const space: LabelSpace = token
    ? resolveLabelSpace((all.train as TokenExample[]).flatMap((e) => e.labels), labelOptions(base))
    : resolveLabelSpace((all.train as Example<string | number>[]).map((e) => String(e.label)), {
      ...labelOptions(base),
      regression,
    });
  const head: HeadKind = token
    ? "token_classification"
    : regression
    ? "regression"
    : "sequence_classification";
  const model = await loadModel(gpu, modelDir, {
    head,
    ...(space.kind === "classification" ? { labels: [...space.labels] } : { numLabels: 1 }),
    seed: o.seed,
  });
  cleanup.defer(() => model.store.destroy());
  if (model.initialised.length) info(`initialised (not in the checkpoint): ${model.initialised.join(", ")}`);
  if (model.unexpected.length) info(`unused checkpoint tensors: ${model.unexpected.join(", ")}`);
  const cfg = model.cfg;
  const tokenizer = await loadTokenizer(modelDir, { maxLength: o.maxLength, typeIds: cfg.typeVocabSize > 1 });
  const encode = (e: Example<string | number> | TokenExample) =>
    token
      ? encodeTokenExample(tokenizer, e as TokenExample, space)
      : encodeExample(tokenizer, e as Example<string | number>, space);
  const trainItems = data.train.map(encode);
  const validation = data.validation.map((s) => ({
    ...s,
    items: (s.examples as (Example<string | number> | TokenExample)[]).map(encode),
  }));
  const maxT = Math.max(
    2,
    ...trainItems.map((e) => e.ids.length),
    ...validation.flatMap((s) => s.items.map((e) => e.ids.length)),
  );
  info(`${trainItems.length} training examples, ${numLabels(space)} labels, longest ${maxT} tokens`);

  const enc = await Encoder.create(gpu, cfg, model.store, {
    maxBatch: o.batchSize,
    maxLength: paddedLength(maxT, cfg.maxSequenceLength),
    hiddenDropout: o.hiddenDropout,
    attentionDropout: o.attentionDropout,
  });
  cleanup.defer(() => enc.destroy());
  const optimizer = await Optimizer.create(gpu, model.store, adamwSettings(o));
  cleanup.defer(() => optimizer.destroy());
  const programs = new ProgramCache(enc);
  const stepper = new TrainStep(enc, programs, optimizer, o.gradientAccumulationSteps, o.seed);
  const addrop = o.adDrop ? await AdDrop.create(enc, programs, o) : null;
  if (addrop) cleanup.defer(() => addrop.destroy());
  const total = totalSteps(trainItems.length, o.batchSize, o.gradientAccumulationSteps, o.epochs, o.maxSteps);
  const warmup = warmupSteps(total, o.warmupRatio);
  const metric = selectionMetric(o, token, regression);
  const labelMap = o.labelMap ? parseLabelMap(o.labelMap) : undefined;
  const ckpt = { cfg, specs: model.specs, store: model.store, tokenizer };

  let state: TrainerState = freshTrainerState({ ...o, resume: false, outputDir: outDir });
  let log: string[] = [];
  if (resuming) {
    state = await loadTrainerState(gpu, lastDir, model.store);
    log = (await Deno.readTextFile(`${outDir}/train_log.jsonl`).catch(() => "")).split("\n").filter(Boolean);
    info(`resuming after epoch ${state.epoch} (step ${state.step}) from ${lastDir}`);
    const before = totalSteps(
      trainItems.length,
      o.batchSize,
      o.gradientAccumulationSteps,
      started!.epochs,
      started!.maxSteps,
    );
    if (before !== total && (o.lrSchedule !== "constant" || o.warmupRatio > 0)) {
      info(
        `the run was started for ${before} optimizer steps, it now runs ${total}: the learning-rate schedule ` +
          `continues as one of ${total} steps, so the weights differ from an uninterrupted ${total}-step run`,
      );
    }
    state.options = { ...o, resume: false, outputDir: outDir };
  }
  await Deno.mkdir(outDir, { recursive: true });
  const epochs = Math.ceil(
    o.maxSteps > 0
      ? total /
        Math.max(1, Math.ceil(Math.ceil(trainItems.length / o.batchSize) / o.gradientAccumulationSteps))
      : o.epochs,
  );
  let evalResults: Record<string, number> = {};
  const t0 = performance.now();
  // A resumed run that had stopped early stays stopped (unless --patience grew).
  const stopped = () => o.patience !== undefined && state.epochsWithoutImprovement >= o.patience;

  for (let epoch = state.epoch; epoch < epochs && state.step < total && !stopped(); epoch++) {
    const adEpoch = addrop !== null && isAdDropEpoch(epoch, o.crossTuning);
    const order = epochOrder(trainItems.length, o.seed, epoch, o.shuffle);
    const groups = batches(order, o.batchSize);
    // One micro-batch in flight: the next is submitted before the previous one's numbers are awaited.
    const inFlight = new InOrder<StepStats | null>();
    let tDone = performance.now();
    for (let g = 0; g < groups.length && state.step < total; g++) {
      const batch = collate(groups[g].map((i) => trainItems[i]), tokenizer.padId, enc.options.maxLength);
      const last = (g + 1) % o.gradientAccumulationSteps === 0 || g === groups.length - 1;
      const lr = learningRate(o.lrSchedule, o.learningRate, state.step, total, warmup);
      const program = adEpoch ? await addrop!.prepare(batch, state.microStep) : undefined;
      const submitted = await stepper.submit(
        batch,
        state.microStep,
        last ? { program, optimizerStep: state.step + 1, lr } : { program },
      );
      state.microStep++;
      if (last) state.step++;
      const step = state.step;
      const epochAt = epoch + (g + 1) / groups.length;
      // (a micro-batch before the last reports null: its numbers reach the log through its optimizer step's)
      await inFlight.push(submitted.stats, (stats) => {
        if (!stats) return;
        const now = performance.now();
        const record: StepRecord = {
          step,
          epoch: epochAt,
          loss: stats.loss,
          learning_rate: lr,
          grad_norm: stats.gradNorm,
          tokens_per_second: stats.tokens / ((now - tDone) / 1000),
          ad_drop: adEpoch,
        };
        tDone = now;
        log.push(JSON.stringify(record));
        onEvent({ type: "step", record, totalSteps: total });
      });
    }
    await inFlight.drain();
    // Evaluation after the epoch.
    const metrics: Record<string, number> = { epoch: epoch + 1 };
    for (const split of validation) {
      const pred = await predictLogits(enc, programs, split.items, o.batchSize, tokenizer.padId);
      Object.assign(
        metrics,
        prefixKeys(scoreSplit(split, pred.logits, space, token, labelMap, o), split.suffix),
      );
      if (!Number.isNaN(pred.loss)) metrics[`loss${split.suffix}`] = pred.loss;
    }
    state.history.push(metrics);
    onEvent({ type: "eval", epoch: epoch + 1, metrics });
    if (
      recordEpoch(state, epoch, metrics[metric.name], { higher: metric.higher, always: !validation.length })
    ) {
      evalResults = metrics;
      await saveCheckpoint(gpu, outDir, ckpt);
    }
    state.epoch = epoch + 1;
    await writeFileAtomic(`${outDir}/train_log.jsonl`, log.join("\n") + "\n");
    await saveTrainerState(gpu, lastDir, ckpt, state);
    if (stopped()) {
      info(`early stopping: no improvement of ${metric.name} in ${o.patience} epochs`);
      break;
    }
  }
  if (state.bestEpoch !== null && Object.keys(evalResults).length === 0) {
    evalResults = state.history[state.bestEpoch - 1] ?? {};
  }
  const runtime = (performance.now() - t0) / 1000;
  await writeRunResults(outDir, evalResults, state, {
    runtime,
    trainSamples: trainItems.length,
    evalSamples: validation.reduce((n, s) => n + s.items.length, 0),
    metric: metric.name,
  });
  return {
    outputDir: outDir,
    bestEpoch: state.bestEpoch,
    bestMetric: state.bestMetric,
    metricName: metric.name,
    evalResults,
    steps: state.step,
  };
}

function labelOptions(base: { id2label: string[]; head: HeadKind }) {
  // A checkpoint's label2id counts only when it has a task head (not LABEL_0, LABEL_1 of a bare encoder).
  const generic = base.id2label.every((l, i) => l === `LABEL_${i}`);
  return base.head === "none" || generic
    ? {}
    : { label2id: Object.fromEntries(base.id2label.map((l, i) => [l, i])) };
}

function scoreSplit(
  split: { items: EncodedExample[]; examples: unknown[] },
  logits: Float32Array[],
  space: LabelSpace,
  token: boolean,
  labelMap: ReturnType<typeof parseLabelMap> | undefined,
  o: TrainOptions,
): Record<string, number> {
  const spec = { task: o.task, tokenClassification: token, labelMap };
  if (token) {
    const labels = space.kind === "classification" ? space.labels : [];
    const preds = split.items.map((e, i) => wordPredictions(logits[i], e.wordIds ?? [], labels));
    const refs = (split.examples as TokenExample[]).map((e, i) => e.labels.slice(0, preds[i].length));
    return computeMetrics(spec, preds, refs);
  }
  const preds = sequencePredictions(logits, space);
  const refs = (split.examples as Example<string | number>[]).map((e) => e.label!);
  return computeMetrics(spec, preds, refs);
}

function prefixKeys(m: Record<string, number>, suffix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k.endsWith(suffix) ? k : `${k}${suffix}`, v]));
}
