/**
 * Translation fine-tuning of Marian / OPUS-MT checkpoints: source/target pairs read from JSONL, CSV or TSV,
 * tokenized with the checkpoint's tokenizer.json or OPUS-MT's SentencePiece files, teacher-forced cross-entropy
 * training with AdamW (and AD-DROP on the encoder), and after each epoch the validation loss and corpus BLEU
 * (sacreBLEU's defaults) of greedy or beam-search translations; the best epoch's checkpoint (by BLEU) is saved in
 * the Hugging Face layout with its translations, the last epoch's with the optimizer state for `--resume`.
 * Also `predict()` and `evaluate()` for translation checkpoints.
 *
 * @module
 */
import { readExamples } from "../data/examples.ts";
import { type Gpu, requestGpu } from "../gpu/device.ts";
import { CommandBatch } from "../gpu/encoder.ts";
import { readMany } from "../gpu/readback.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { InputError } from "../io/input_error.ts";
import { scaleSplit } from "../kernels/scale.ts";
import { corpusBleu } from "../metrics/bleu.ts";
import {
  type LoadedMarian,
  loadMarian,
  MarianModel,
  saveMarian,
  type Seq2SeqBatch,
} from "../model/marian.ts";
import {
  freshTrainerState,
  loadTrainerState,
  saveOptimizerState,
  type TrainerState,
} from "../model/checkpoint.ts";
import { startedWith } from "./resume.ts";
import { recordEpoch, writeRunResults } from "./run_results.ts";
import { IGNORE_INDEX, loadTokenizer, type TextTokenizer } from "../model/tokenizer.ts";
import { loadMarianTokenizers, type MarianTokenizers } from "../model/marian_tokenizer.ts";
import { paddedLength } from "./tokenize.ts";
import type { TrainOptions } from "../cli/train_options.ts";
import { AdDropSeq2Seq, isAdDropEpoch } from "./addrop_seq2seq.ts";
import { runSizes } from "./evaluate.ts";
import { beamSearchCached } from "../model/marian_beam.ts";
import { greedyGenerateCached } from "../model/marian_decode.ts";
import { adamwSettings, Optimizer } from "./optimizer.ts";
import type { RunEvent, StepRecord, TrainResult } from "./run.ts";
import { batches, epochOrder, learningRate, totalSteps, warmupSteps } from "./schedule.ts";
import { exists } from "../io/exists.ts";

/** The error of a training run given flags but no `--model` (no flags at all run the built-in default). */
export const NO_MODEL =
  "train: no --model given (a checkpoint folder with config.json; `deno task train` with no flags at all " +
  "runs the built-in default)";

/** One source/target pair. */
export interface TranslationPair {
  source: string;
  target: string;
}

/** A tokenized pair: source ids and target ids, each ending with the tokenizer's end token. */
export interface EncodedPair {
  source: number[];
  target: number[];
}

/**
 * Reads translation pairs from a JSONL, CSV or TSV file (columns `sourceColumn`, `targetColumn`; default
 * `source`, `target`). A bad row throws a DataError naming file and line, or is skipped with `skipBadRows`.
 */
export async function readTranslationPairs(
  path: string,
  o: { sourceColumn?: string; targetColumn?: string; skipBadRows?: boolean } = {},
): Promise<{ pairs: TranslationPair[]; skipped: number }> {
  const reader = readExamples(path, {
    textColumn: o.sourceColumn ?? "source",
    labelColumn: o.targetColumn ?? "target",
    textPairColumn: undefined,
    skipBadRows: o.skipBadRows,
  });
  const examples = await reader.readAll();
  return {
    pairs: examples.map((e) => ({ source: e.text, target: String(e.label) })),
    skipped: reader.skipped,
  };
}

/** Tokenizes a pair with the end token appended (the tokenizer's post-processor), each side truncated. */
export function encodePair(tok: MarianTokenizers, p: TranslationPair): EncodedPair {
  return { source: tok.source.encode(p.source).ids, target: tok.target.encode(p.target).ids };
}

/**
 * A translation checkpoint's tokenizers: its tokenizer.json for both sides, or else OPUS-MT's files
 * (`source.spm`, `target.spm`, `vocab.json`), converted (`spm` true).
 */
export interface TranslationTokenizers extends MarianTokenizers {
  /** The directory they were read from. */
  dir: string;
  spm: boolean;
}

/** Loads {@link TranslationTokenizers} from `dir`; an InputError when it has neither kind of files. */
export async function loadTranslationTokenizers(
  dir: string,
  options: { maxLength?: number } = {},
): Promise<TranslationTokenizers> {
  const o = { ...options, typeIds: false };
  if (await exists(`${dir}/tokenizer.json`)) {
    const tok = await loadTokenizer(dir, o);
    return { source: tok, target: tok, dir, spm: false };
  }
  const spm = await loadMarianTokenizers(dir, o);
  if (spm) return { ...spm, dir, spm: true };
  throw new InputError(
    `${dir}: no tokenizer.json, and no source.spm with vocab.json (OPUS-MT's tokenizer files)`,
  );
}

/**
 * Writes the tokenizer files into `dir` (each to a temporary name, renamed): tokenizer.json and
 * tokenizer_config.json, or OPUS-MT's files copied unchanged (so that transformers' MarianTokenizer loads them).
 */
export async function saveTranslationTokenizers(dir: string, tok: TranslationTokenizers): Promise<void> {
  if (!tok.spm) {
    await writeFileAtomic(`${dir}/tokenizer.json`, JSON.stringify(tok.source.json) + "\n");
    await writeFileAtomic(`${dir}/tokenizer_config.json`, JSON.stringify(tok.source.config, null, 2) + "\n");
    return;
  }
  if (await Deno.realPath(dir) === await Deno.realPath(tok.dir)) return;
  for (const f of ["source.spm", "target.spm", "vocab.json", "tokenizer_config.json"]) {
    if (await exists(`${tok.dir}/${f}`)) {
      await writeFileAtomic(`${dir}/${f}`, await Deno.readFile(`${tok.dir}/${f}`));
    }
  }
}

/**
 * Pads pairs into one batch of T = the longest source or target, rounded up to a multiple of 8 within `limit`
 * (the model's maxLength; see {@linkcode paddedLength}; default 0: not rounded): source ids with pad and
 * attention mask 0, labels with -100, decoder inputs = the labels shifted right behind `startId` (HF's
 * `shift_tokens_right`). Padded source keys are masked and padded target positions come after every real one
 * (causal), so the padding changes no result.
 */
export function collatePairs(
  items: readonly EncodedPair[],
  padId: number,
  startId: number,
  limit = 0,
): Seq2SeqBatch {
  const B = items.length;
  const T = paddedLength(Math.max(1, ...items.map((p) => Math.max(p.source.length, p.target.length))), limit);
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Int32Array(B * T);
  const decoderInputIds = new Int32Array(B * T).fill(padId);
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  items.forEach((p, b) => {
    p.source.forEach((id, t) => {
      inputIds[b * T + t] = id;
      attentionMask[b * T + t] = 1;
    });
    p.target.forEach((id, t) => {
      labels[b * T + t] = id;
      decoderInputIds[b * T + t] = t === 0 ? startId : p.target[t - 1];
    });
    if (p.target.length < T && p.target.length > 0) {
      decoderInputIds[b * T + p.target.length] = p.target.at(-1)!;
    }
    if (p.target.length === 0) decoderInputIds[b * T] = startId;
  });
  return { B, T, inputIds, attentionMask, decoderInputIds, labels };
}

/**
 * Translations of `sources`, decoded to text (special tokens skipped): greedy with one beam, else beam search
 * (`numBeams` rows per source, so `batchSize / numBeams` sources at a time; the model must hold `numBeams` rows).
 */
export async function translate(
  m: MarianModel,
  tok: TextTokenizer,
  sources: readonly number[][],
  o: { batchSize: number; maxNewTokens: number; numBeams?: number },
): Promise<string[]> {
  const K = o.numBeams ?? 1;
  const step = Math.floor(Math.min(o.batchSize, m.options.maxBatch) / K);
  if (step < 1) {
    throw new InputError(
      `${K} beams need a batch of at least ${K} rows (the batch size is ${
        Math.min(o.batchSize, m.options.maxBatch)
      })`,
    );
  }
  const out: string[] = [];
  for (let i = 0; i < sources.length; i += step) {
    const chunk = sources.slice(i, i + step) as number[][];
    const ids = K === 1
      ? await greedyGenerateCached(m, chunk, o)
      : await beamSearchCached(m, chunk, { numBeams: K, maxNewTokens: o.maxNewTokens });
    for (const row of ids) out.push(tok.tokenizer.decode(row, { skip_special_tokens: true }));
  }
  return out;
}

/** Mean teacher-forced cross entropy over the target tokens of `items` (no dropout). */
export async function translationLoss(
  m: MarianModel,
  items: readonly EncodedPair[],
  batchSize: number,
  padId: number,
): Promise<number> {
  let sum = 0;
  let tokens = 0;
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = collatePairs(
      items.slice(i, i + batchSize),
      padId,
      m.cfg.decoderStartTokenId,
      m.options.maxLength,
    );
    const prog = await m.program(batch.B, batch.T, "eval");
    m.writeBatch(batch);
    m.setStep(0, 0);
    const cmd = new CommandBatch(m.gpu, "translation loss");
    cmd.run(...prog.encoderForward, ...prog.decoderForward, ...prog.loss);
    cmd.submit();
    const [loss] = await readMany(m.gpu, [prog.lossValue]);
    const n = Array.from(batch.labels!).filter((x) => x !== IGNORE_INDEX).length;
    sum += loss[0] * n;
    tokens += n;
  }
  return tokens ? sum / tokens : NaN;
}

/**
 * `train()` for a Marian checkpoint (called by `train()` when config.json says `model_type: "marian"`). After
 * each epoch, `last/` holds the weights, Adam moments and trainer state, so `--resume` continues an interrupted
 * run bit for bit (the options must be the same, except --epochs, --max-steps and --patience).
 */
export async function trainTranslation(
  o: TrainOptions,
  onEvent: (e: RunEvent) => void = () => {},
  env: { gpu?: Gpu } = {},
): Promise<TrainResult> {
  if (!o.model) throw new InputError(NO_MODEL);
  if (o.task) {
    throw new InputError(
      `train: --task ${o.task} is for encoder checkpoints; ${o.model} is a Marian translation model (give --train)`,
    );
  }
  if (!o.train) throw new InputError("train: translation needs --train (a JSONL, CSV or TSV file of pairs)");
  // The best epoch: highest BLEU (default) or lowest validation loss.
  const metric = o.metric ?? "bleu";
  if (metric !== "bleu" && metric !== "loss") {
    throw new InputError(`train: --metric ${metric}: translation selects by bleu (default) or loss`);
  }
  const info = (message: string) => onEvent({ type: "info", message });
  const outDir = o.outputDir ?? `runs/${new Date().toISOString().replace(/[:.]/g, "-")}`;
  const lastDir = `${outDir}/last`;
  const resuming = o.resume && (await exists(`${lastDir}/trainer_state.json`));
  const modelDir = resuming ? lastDir : o.model;
  if (resuming) await startedWith(lastDir, o);
  using cleanup = new DisposableStack();
  const gpu = env.gpu ?? await requestGpu();
  if (!env.gpu) cleanup.defer(() => gpu.destroy());
  info(`adapter: ${gpu.description.name} (${gpu.description.kind})`);
  const loaded = await loadMarian(gpu, modelDir);
  cleanup.defer(() => loaded.store.destroy());
  if (loaded.unexpected.length) info(`unused checkpoint tensors: ${loaded.unexpected.join(", ")}`);
  const cfg = loaded.cfg;
  const tok = await loadTranslationTokenizers(modelDir, { maxLength: o.maxLength });
  checkPad(tok, cfg.padTokenId);
  const columns = { sourceColumn: o.sourceColumn, targetColumn: o.targetColumn, skipBadRows: o.skipBadRows };
  const train = await readTranslationPairs(o.train, columns);
  const valid = o.validation ? await readTranslationPairs(o.validation, columns) : { pairs: [], skipped: 0 };
  const skipped = train.skipped + valid.skipped;
  if (skipped) info(`skipped ${skipped} bad rows (--skip-bad-rows)`);
  const trainPairs = o.maxTrainSamples ? train.pairs.slice(0, o.maxTrainSamples) : train.pairs;
  const validPairs = o.maxEvalSamples ? valid.pairs.slice(0, o.maxEvalSamples) : valid.pairs;
  if (!trainPairs.length) throw new InputError(`${o.train}: no training pairs`);
  const trainItems = trainPairs.map((p) => encodePair(tok, p));
  const validItems = validPairs.map((p) => encodePair(tok, p));
  const maxT = Math.max(
    2,
    ...[...trainItems, ...validItems].map((p) => Math.max(p.source.length, p.target.length)),
  );
  if (maxT > cfg.maxPositionEmbeddings) {
    throw new InputError(
      `a pair is ${maxT} tokens long, above the model's ${cfg.maxPositionEmbeddings} positions: lower --max-length`,
    );
  }
  info(`${trainItems.length} training pairs, ${validItems.length} validation pairs, longest ${maxT} tokens`);
  const model = await MarianModel.create(gpu, loaded, {
    maxBatch: o.batchSize,
    maxLength: paddedLength(maxT, cfg.maxPositionEmbeddings),
    dropout: o.hiddenDropout,
    attentionDropout: o.attentionDropout,
  });
  cleanup.defer(() => model.destroy());
  const optimizer = await Optimizer.create(gpu, loaded.store, adamwSettings(o));
  cleanup.defer(() => optimizer.destroy());
  const numBeams = o.numBeams ?? cfg.numBeams;
  if (validItems.length && numBeams > o.batchSize) {
    throw new InputError(
      `--num-beams ${numBeams} needs --batch-size >= ${numBeams} (validation runs the beams of a source as rows of a batch)`,
    );
  }
  const addrop = o.adDrop ? await AdDropSeq2Seq.create(model, o) : null;
  if (addrop) cleanup.defer(() => addrop.destroy());
  const accumulation = o.gradientAccumulationSteps;
  const total = totalSteps(trainItems.length, o.batchSize, accumulation, o.epochs, o.maxSteps);
  const warmup = warmupSteps(total, o.warmupRatio);
  const perEpoch = Math.max(1, Math.ceil(Math.ceil(trainItems.length / o.batchSize) / accumulation));
  const epochs = Math.ceil(o.maxSteps > 0 ? total / perEpoch : o.epochs);
  let state: TrainerState = freshTrainerState({ ...o, resume: false, outputDir: outDir });
  let log: string[] = [];
  if (resuming) {
    state = await loadTrainerState(gpu, lastDir, loaded.store);
    state.options = { ...o, resume: false, outputDir: outDir };
    log = (await Deno.readTextFile(`${outDir}/train_log.jsonl`).catch(() => "")).split("\n").filter(Boolean);
    info(`resuming after epoch ${state.epoch} (step ${state.step}) from ${lastDir}`);
  }
  await Deno.mkdir(outDir, { recursive: true });
  const t0 = performance.now();
  const scales = new Map<unknown, Awaited<ReturnType<typeof scaleSplit>>>();
  const stopped = () => o.patience !== undefined && state.epochsWithoutImprovement >= o.patience;

  for (let epoch = state.epoch; epoch < epochs && state.step < total && !stopped(); epoch++) {
    const adEpoch = addrop !== null && isAdDropEpoch(epoch, o.crossTuning);
    const groups = batches(epochOrder(trainItems.length, o.seed, epoch, o.shuffle), o.batchSize);
    let window: { loss: number; tokens: number }[] = [];
    let tDone = performance.now();
    for (let g = 0; g < groups.length && state.step < total; g++) {
      const batch = collatePairs(
        groups[g].map((i) => trainItems[i]),
        cfg.padTokenId,
        cfg.decoderStartTokenId,
        model.options.maxLength,
      );
      const last = (g + 1) % accumulation === 0 || g === groups.length - 1;
      const lr = learningRate(o.lrSchedule, o.learningRate, state.step, total, warmup);
      const run = adEpoch
        ? (await addrop!.prepare(batch, state.microStep)).program
        : await model.program(batch.B, batch.T, "train");
      model.writeBatch(batch);
      model.setStep(o.seed, state.microStep);
      const cmd = new CommandBatch(gpu, "translation step");
      cmd.run(...run.encoderForward, ...run.decoderForward, ...run.loss);
      if (accumulation > 1) {
        let d = scales.get(run);
        if (!d) scales.set(run, d = await scaleSplit(gpu, { x: run.dlogits }, { s: 1 / accumulation }));
        cmd.run(...d);
      }
      cmd.run(...run.backward);
      if (last) {
        optimizer.setStep(state.step + 1, lr);
        cmd.run(...optimizer.step);
        cmd.zero(loaded.store.grads);
      }
      cmd.submit();
      state.microStep++;
      const [loss, norm] = await readMany(gpu, [run.lossValue, optimizer.norm]);
      window.push({
        loss: loss[0],
        tokens: Array.from(batch.labels!).filter((x) => x !== IGNORE_INDEX).length,
      });
      if (!last) continue;
      state.step++;
      const now = performance.now();
      const record: StepRecord = {
        step: state.step,
        epoch: epoch + (g + 1) / groups.length,
        loss: window.reduce((a, w) => a + w.loss, 0) / window.length,
        learning_rate: lr,
        grad_norm: norm[0],
        tokens_per_second: window.reduce((a, w) => a + w.tokens, 0) / ((now - tDone) / 1000),
        ad_drop: adEpoch,
      };
      tDone = now;
      window = [];
      log.push(JSON.stringify(record));
      onEvent({ type: "step", record, totalSteps: total });
    }
    const metrics: Record<string, number> = { epoch: epoch + 1 };
    let hypotheses: string[] = [];
    if (validItems.length) {
      metrics.loss = await translationLoss(model, validItems, o.batchSize, cfg.padTokenId);
      hypotheses = await translate(model, tok.target, validItems.map((p) => p.source), {
        batchSize: o.batchSize,
        maxNewTokens: maxT,
        numBeams,
      });
      const bleu = corpusBleu(hypotheses, validPairs.map((p) => p.target));
      metrics.bleu = bleu.score;
      metrics.bleu_bp = bleu.bp;
    }
    state.history.push(metrics);
    onEvent({ type: "eval", epoch: epoch + 1, metrics });
    if (
      recordEpoch(state, epoch, metrics[metric], { higher: metric !== "loss", always: !validItems.length })
    ) {
      await saveTranslationCheckpoint(gpu, outDir, loaded, tok);
      if (hypotheses.length) {
        await writeFileAtomic(`${outDir}/generated_predictions.txt`, hypotheses.join("\n") + "\n");
      }
    }
    state.epoch = epoch + 1;
    await writeFileAtomic(`${outDir}/train_log.jsonl`, log.join("\n") + "\n");
    await saveTranslationCheckpoint(gpu, lastDir, loaded, tok);
    await saveOptimizerState(gpu, lastDir, loaded.store, state);
    if (stopped()) {
      info(`early stopping: no improvement of ${metric} in ${o.patience} epochs`);
      break;
    }
  }
  const evalResults = state.bestEpoch !== null ? state.history[state.bestEpoch - 1] ?? {} : {};
  const runtime = (performance.now() - t0) / 1000;
  await writeRunResults(outDir, evalResults, state, {
    runtime,
    trainSamples: trainItems.length,
    evalSamples: validItems.length,
    metric,
  });
  return {
    outputDir: outDir,
    bestEpoch: state.bestEpoch,
    bestMetric: validItems.length ? state.bestMetric : null,
    metricName: metric,
    evalResults,
    steps: state.step,
  };
}

/** Writes a Marian checkpoint with its tokenizer files into `dir` (each file to a temporary name, renamed). */
async function saveTranslationCheckpoint(
  gpu: Gpu,
  dir: string,
  m: LoadedMarian,
  tok: TranslationTokenizers,
): Promise<void> {
  await saveMarian(gpu, dir, m);
  await saveTranslationTokenizers(dir, tok);
}

/** The tokenizers' pad token must be config.json's `pad_token_id` (decoder inputs and padding use it). */
function checkPad(tok: TranslationTokenizers, padTokenId: number): void {
  for (const side of ["source", "target"] as const) {
    if (tok[side].padId !== padTokenId) {
      throw new InputError(
        `${tok.dir}: the ${side} tokenizer's pad token has id ${
          tok[side].padId
        }, config.json's pad_token_id is ` +
          `${padTokenId}`,
      );
    }
  }
}

/** What {@linkcode predictTranslations} and {@linkcode evaluateTranslation} need. */
export interface TranslationRunOptions {
  model: string;
  maxLength?: number;
  batchSize?: number;
  /** Longest translation in tokens (default: maxLength). */
  maxNewTokens?: number;
  /** Beams of the search (default: the config's `num_beams`, else 1 = greedy). */
  numBeams?: number;
  sourceColumn?: string;
  targetColumn?: string;
  skipBadRows?: boolean;
  gpu?: Gpu;
}

/** Loads a Marian checkpoint and its tokenizer, sized for `o`, and runs `fn`; everything is freed afterwards. */
async function withTranslator<T>(
  o: TranslationRunOptions,
  fn: (
    m: MarianModel,
    tok: TranslationTokenizers,
    sizes: { batchSize: number; maxNewTokens: number; numBeams: number },
  ) => Promise<T>,
): Promise<T> {
  using cleanup = new DisposableStack();
  const gpu = o.gpu ?? await requestGpu();
  if (!o.gpu) cleanup.defer(() => gpu.destroy());
  const loaded = await loadMarian(gpu, o.model);
  cleanup.defer(() => loaded.store.destroy());
  const { maxLength, batchSize } = runSizes(o, loaded.cfg.maxPositionEmbeddings);
  const maxNewTokens = o.maxNewTokens ?? maxLength;
  if (
    !(Number.isInteger(maxNewTokens) && maxNewTokens >= 1 && maxNewTokens <= loaded.cfg.maxPositionEmbeddings)
  ) {
    throw new RangeError(
      `maxNewTokens must be an integer in 1..${loaded.cfg.maxPositionEmbeddings} (max_position_embeddings), got ${maxNewTokens}`,
    );
  }
  const numBeams = o.numBeams ?? loaded.cfg.numBeams;
  if (!(Number.isInteger(numBeams) && numBeams >= 1)) {
    throw new RangeError(`numBeams must be an integer >= 1, got ${numBeams}`);
  }
  const tok = await loadTranslationTokenizers(o.model, { maxLength });
  checkPad(tok, loaded.cfg.padTokenId);
  // Beam search runs numBeams rows per source: the batch holds batchSize sources' beams.
  const m = await MarianModel.create(gpu, loaded, {
    maxBatch: batchSize * numBeams,
    maxLength: Math.max(maxLength, maxNewTokens),
  });
  cleanup.defer(() => m.destroy());
  return await fn(m, tok, { batchSize: batchSize * numBeams, maxNewTokens, numBeams });
}

/**
 * Translates every row of `input` (JSONL, CSV or TSV with a `sourceColumn`, default `source`) and writes one
 * JSON line `{"source", "translation"}` per row to `output` (a temporary file renamed at the end); returns the
 * row count.
 */
export async function predictTranslations(
  o: TranslationRunOptions & { input: string; output: string },
): Promise<number> {
  return await withTranslator(o, async (m, tok, sizes) => {
    const reader = readExamples(o.input, {
      textColumn: o.sourceColumn ?? "source",
      requireLabel: false,
      skipBadRows: o.skipBadRows,
    });
    const sources = (await reader.readAll()).map((e) => e.text);
    const out = await translate(m, tok.target, sources.map((s) => tok.source.encode(s).ids), sizes);
    const lines = sources.map((source, i) => JSON.stringify({ source, translation: out[i] }) + "\n");
    await writeFileAtomic(o.output, lines.join(""));
    return sources.length;
  });
}

/**
 * BLEU (sacreBLEU's defaults) of greedy translations of a pair file against its targets, and the teacher-forced
 * loss: `{bleu, bleu_bp, loss, samples}`.
 */
export async function evaluateTranslation(
  o: TranslationRunOptions & { validation: string },
): Promise<Record<string, number>> {
  return await withTranslator(o, async (m, tok, sizes) => {
    const { pairs } = await readTranslationPairs(o.validation, o);
    if (!pairs.length) throw new InputError(`${o.validation}: no pairs`);
    const items = pairs.map((p) => encodePair(tok, p));
    const hyps = await translate(m, tok.target, items.map((p) => p.source), sizes);
    const bleu = corpusBleu(hyps, pairs.map((p) => p.target));
    const loss = await translationLoss(m, items, sizes.batchSize, m.cfg.padTokenId);
    return { bleu: bleu.score, bleu_bp: bleu.bp, loss, samples: pairs.length };
  });
}
