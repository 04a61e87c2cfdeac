/**
 * `pretrain()`: masked-language-model pretraining of a BERT from scratch, top to bottom:
 *   scratch model (or the output dir on `--resume`) -> [corpus windows -> BERT masking -> forward/backward
 *   -> AdamW] per step -> log every `logEvery` steps -> checkpoint every `saveEvery` steps and at the end.
 * The output directory is a Hugging Face `BertForMaskedLM` checkpoint (config.json, model.safetensors, the
 * tokenizer files) plus optimizer.safetensors, trainer_state.json (with the corpus cursor) and
 * pretrain_log.jsonl; `resume` continues bit-exactly where the last save left off.
 *
 * @module
 */
import { requestGpu } from "../gpu/device.ts";
import { InOrder, readFloats } from "../gpu/readback.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { openSafetensors } from "../io/safetensors.ts";
import {
  freshTrainerState,
  loadTrainerState,
  saveTrainerState,
  type TrainerState,
} from "../model/checkpoint.ts";
import { Encoder } from "../model/encoder.ts";
import { mlmSlotLayout } from "../model/mlm_head.ts";
import { loadModel } from "../model/model.ts";
import { createScratchModel } from "../model/scratch.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import { maskedAccuracy, maskTokens } from "./mlm_mask.ts";
import { Optimizer } from "./optimizer.ts";
import { CorpusStream, type StreamCursor } from "./pretrain_data.ts";
import { learningRate, warmupSteps } from "./schedule.ts";
import { ProgramCache, type StepStats, TrainStep } from "./train_step.ts";
import { InputError } from "../io/input_error.ts";
import { exists } from "../io/exists.ts";

/** Options of {@linkcode pretrain} (the `deno task pretrain` flags). */
export interface PretrainOptions {
  /** Text file, one document or paragraph per line. */
  corpus: string;
  /** Directory with vocab.txt (and tokenizer.json / tokenizer_config.json) from tasks/vocab.ts. */
  vocab: string;
  output: string;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxLength: number;
  batchSize: number;
  steps: number;
  learningRate: number;
  warmupRatio: number;
  seed: number;
  saveEvery: number;
  /** Steps between log records (default 10). */
  logEvery?: number;
  resume?: boolean;
  /** AdamW weight decay outside biases and LayerNorm (default 0.01). */
  weightDecay?: number;
  /** Gradient clipping norm (default 1). */
  maxGradNorm?: number;
  /** Hidden and attention dropout (default 0.1). */
  dropout?: number;
  /** Position table size (default 512). */
  maxPositions?: number;
  /** Stop (with a checkpoint) after this step, to continue later with `resume` (time-boxed runs). */
  stopAt?: number;
  /**
   * Start from this checkpoint's weights instead of a random initialisation (continued pretraining, with a new
   * optimizer and schedule). Its tensors must have exactly the shapes the size options give, and its
   * vocab.txt must equal `vocab`'s.
   */
  initFrom?: string;
}

/** One line of pretrain_log.jsonl: means over the steps since the previous record. */
export interface PretrainRecord {
  step: number;
  loss: number;
  mlm_accuracy: number;
  learning_rate: number;
  grad_norm: number;
  tokens_per_second: number;
  elapsed_s: number;
}

/** Something the run reports. */
export type PretrainEvent =
  | { type: "info"; message: string }
  | { type: "log"; record: PretrainRecord; totalSteps: number }
  | { type: "save"; step: number; dir: string };

/** The trainer state of a pretraining run: the fine-tuning one plus where the corpus stream stands. */
export type PretrainState = TrainerState & { cursor: StreamCursor; elapsed: number };

/** What {@linkcode pretrain} returns: the last record (null when no step ran). */
export interface PretrainResult {
  output: string;
  steps: number;
  last: PretrainRecord | null;
}

/** Options that must not change on `--resume` (they decide the data, the masks and the model shapes). */
const FIXED = ["batchSize", "maxLength", "seed", "steps", "corpus"] as const;

/**
 * Pretrains (or resumes pretraining) a BERT with the masked-language-model objective; see the module doc.
 *
 * @example
 * ```ts ignore
 * import { pretrain } from "./src/pipeline/pretrain.ts";
 * await pretrain({ corpus: "data/pretrain/corpus.txt", vocab: "out/vocab", output: "out/mini", hidden: 64,
 *   layers: 2, heads: 2, intermediate: 256, maxLength: 64, batchSize: 8, steps: 20, learningRate: 5e-4,
 *   warmupRatio: 0.1, seed: 1, saveEvery: 10 }, (e) => console.log(e));
 * ```
 */
export async function pretrain(
  o: PretrainOptions,
  onEvent: (e: PretrainEvent) => void = () => {},
): Promise<PretrainResult> {
  const info = (message: string) => onEvent({ type: "info", message });
  const out = o.output;
  const resuming = (o.resume ?? false) && (await exists(`${out}/trainer_state.json`));
  const gpu = await requestGpu();
  info(`adapter: ${gpu.description.name} (${gpu.description.kind})`);
  if (!resuming) await createModel(o);
  const model = await loadModel(gpu, out, { seed: o.seed });
  if (model.cfg.head !== "masked_lm") {
    throw new InputError(`${out}/config.json: head '${model.cfg.head}', pretraining needs BertForMaskedLM`);
  }
  const cfg = model.cfg;
  const tokenizer = await loadTokenizer(out, { maxLength: o.maxLength });
  const stream = new CorpusStream(await Deno.readTextFile(o.corpus), tokenizer, o.seed);
  const B = o.batchSize;
  const T = o.maxLength;
  const enc = await Encoder.create(gpu, cfg, model.store, { maxBatch: B, maxLength: T });
  const optimizer = await Optimizer.create(gpu, model.store, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-6,
    weightDecay: o.weightDecay ?? 0.01,
    maxGradNorm: o.maxGradNorm ?? 1,
  });
  const programs = new ProgramCache(enc);
  const stepper = new TrainStep(enc, programs, optimizer, 1, o.seed);
  const ckpt = { cfg, specs: model.specs, store: model.store, tokenizer };
  const options: Record<string, unknown> = { ...o, resume: false };

  let state: PretrainState = { ...freshTrainerState(options), cursor: stream.cursor, elapsed: 0 };
  let log: string[] = [];
  if (resuming) {
    state = (await loadTrainerState(gpu, out, model.store)) as PretrainState;
    for (const k of FIXED) {
      if (state.options[k] !== o[k]) {
        throw new RangeError(
          `--resume: ${k} is ${JSON.stringify(o[k])}, the run in ${out} used ${
            JSON.stringify(state.options[k])
          }`,
        );
      }
    }
    stream.seek(state.cursor);
    log = (await Deno.readTextFile(`${out}/pretrain_log.jsonl`).catch(() => "")).split("\n")
      .filter((l) => l && (JSON.parse(l) as PretrainRecord).step <= state.step);
    info(`resuming at step ${state.step} of ${o.steps} from ${out}`);
  }
  info(`${stream.lines.length} corpus lines, ${model.store.count} parameters, batch ${B} x ${T}`);
  const ids = stream.ids;
  const maskOptions = {
    maskId: ids.mask,
    vocabSize: cfg.vocabSize,
    specialIds: [ids.pad, ids.unk, ids.cls, ids.sep, ids.mask],
    seed: o.seed,
  };
  const total = o.steps;
  const warmup = warmupSteps(total, o.warmupRatio);
  const logEvery = o.logEvery ?? 10;
  const program = await programs.get(B, T, "train");
  let acc = { loss: 0, norm: 0, correct: 0, count: 0, tokens: 0, steps: 0, t0: performance.now() };
  let last: PretrainRecord | null = null;
  const save = async () => {
    state.cursor = stream.cursor;
    state.epoch = state.cursor.epoch;
    await saveTrainerState(gpu, out, ckpt, state);
    await writeFileAtomic(`${out}/pretrain_log.jsonl`, log.length ? log.join("\n") + "\n" : "");
    onEvent({ type: "save", step: state.step, dir: out });
  };

  // One step in flight: step s + 1 is submitted before step s's numbers are awaited; none at a save.
  const inFlight = new InOrder<[StepStats | null, Float32Array]>();
  /** Step `step`'s numbers into the running means, logged every `logEvery` steps. */
  const account = (
    [stats, logits]: [StepStats | null, Float32Array],
    labels: Int32Array,
    step: number,
    lr: number,
  ) => {
    const hit = maskedAccuracy(logits, mlmSlotLayout(labels, B, T).targets, cfg.vocabSize);
    acc.loss += stats!.loss;
    acc.norm += stats!.gradNorm;
    acc.correct += hit.correct;
    acc.count += hit.count;
    acc.tokens += stats!.tokens;
    acc.steps++;
    if (step % logEvery === 0 || step === total) {
      const now = performance.now();
      state.elapsed += (now - acc.t0) / 1000;
      last = {
        step,
        loss: acc.loss / acc.steps,
        mlm_accuracy: acc.correct / Math.max(1, acc.count),
        learning_rate: lr,
        grad_norm: acc.norm / acc.steps,
        tokens_per_second: acc.tokens / ((now - acc.t0) / 1000),
        elapsed_s: state.elapsed,
      };
      log.push(JSON.stringify(last));
      onEvent({ type: "log", record: last, totalSteps: total });
      acc = { loss: 0, norm: 0, correct: 0, count: 0, tokens: 0, steps: 0, t0: performance.now() };
    }
  };

  const stop = Math.min(total, o.stopAt ?? total);
  while (state.step < stop) {
    const raw = stream.nextBatch(B, T);
    const masked = maskTokens(raw.inputIds, raw.attentionMask, { B, T }, {
      ...maskOptions,
      step: state.step,
    });
    const lr = learningRate("linear", o.learningRate, state.step, total, warmup);
    const submitted = await stepper.submit(
      {
        B,
        T,
        inputIds: masked.inputIds,
        attentionMask: raw.attentionMask,
        tokenTypeIds: raw.tokenTypeIds,
        labels: masked.labels,
      },
      state.microStep,
      { optimizerStep: state.step + 1, lr },
    );
    state.microStep++;
    state.step++;
    const step = state.step;
    // The logits' copy goes in now, before the next step overwrites them.
    const numbers = Promise.all([submitted.stats, readFloats(gpu, program.logits)]);
    await inFlight.push(numbers, (n) => account(n, masked.labels, step, lr));
    if (state.step % o.saveEvery === 0 || state.step === stop) {
      await inFlight.drain();
      await save();
      acc.t0 = performance.now(); // saving is not training time
    }
  }
  await inFlight.drain();
  enc.destroy();
  optimizer.destroy();
  model.store.destroy();
  gpu.destroy();
  return { output: out, steps: state.step, last };
}

/** Writes the scratch BertForMaskedLM into the output dir, with the vocabulary directory's tokenizer files. */
async function createModel(o: PretrainOptions): Promise<void> {
  const text = await Deno.readTextFile(`${o.vocab}/vocab.txt`);
  const vocab = text.replace(/\n$/, "").split("\n");
  await createScratchModel(o.output, {
    vocab,
    hiddenSize: o.hidden,
    numLayers: o.layers,
    numHeads: o.heads,
    intermediateSize: o.intermediate,
    maxPositions: Math.max(o.maxPositions ?? 512, o.maxLength),
    head: "masked_lm",
    seed: o.seed,
    dropout: o.dropout ?? 0.1,
  });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
    const content = await Deno.readTextFile(`${o.vocab}/${f}`).catch(() => null);
    if (content !== null) await writeFileAtomic(`${o.output}/${f}`, content);
  }
  await Deno.remove(`${o.output}/pretrain_log.jsonl`).catch(() => {});
  if (o.initFrom) await copyInitialWeights(o.initFrom, o.vocab, o.output);
}

/** Replaces the scratch weights in `output` with those of `from`, after checking vocabulary and shapes. */
async function copyInitialWeights(from: string, vocabDir: string, output: string): Promise<void> {
  const [a, b] = await Promise.all(
    [`${from}/vocab.txt`, `${vocabDir}/vocab.txt`].map((f) => Deno.readTextFile(f).catch(() => null)),
  );
  if (a === null) throw new InputError(`--init-from ${from}: no vocab.txt there`);
  if (a !== b) {
    throw new InputError(
      `--init-from ${from}: its vocab.txt differs from ${vocabDir}/vocab.txt; use the same vocabulary`,
    );
  }
  const init = await openSafetensors(from);
  const fresh = await openSafetensors(`${output}/model.safetensors`);
  try {
    for (const name of fresh.names()) {
      const want = fresh.info(name).shape;
      const have = init.names().includes(name) ? init.info(name).shape : null;
      if (!have || have.join("x") !== want.join("x")) {
        throw new InputError(
          `--init-from ${from}/model.safetensors: tensor '${name}' is ${
            have ? have.join("x") : "missing"
          }, the size options give ${want.join("x")}`,
        );
      }
    }
  } finally {
    init.close();
    fresh.close();
  }
  const tmp = `${output}/model.safetensors.tmp-${Deno.pid}`;
  await Deno.copyFile(`${from}/model.safetensors`, tmp);
  await Deno.rename(tmp, `${output}/model.safetensors`);
}
