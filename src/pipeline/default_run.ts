/**
 * What `deno task train` does with no arguments: fine-tune the project's shipped pretrained model on the
 * bundled SpamAssassin ham-vs-spam task, with AD-DROP (cross-tuning). While no pretrained model is shipped,
 * a small BERT is trained from scratch instead (vocabulary learned from the training split), and the run says
 * so. It finishes within minutes on a 2-core machine without a GPU.
 *
 * @module
 */
import { parseTrainOptions } from "../cli/train_options.ts";
import { readExamples } from "../data/examples.ts";
import { countWords, trainWordPiece } from "../data/wordpiece.ts";
import { createScratchModel } from "../model/scratch.ts";
import { type RunEvent, train, type TrainResult } from "./run.ts";
import { InputError } from "../io/input_error.ts";
import { exists } from "../io/exists.ts";

/** The shipped pretrained model (issue 7); used when present. */
export const SHIPPED_MODEL = "models/addrop-tiny";
const DATA = "data/spam";

/** Builds (once) the from-scratch model of the default run and returns its directory. */
async function scratchModel(dir: string, info: (m: string) => void): Promise<string> {
  if (await exists(`${dir}/model.safetensors`)) return dir;
  info(`learning a 4,000-token WordPiece vocabulary from ${DATA}/train.jsonl`);
  const counts = new Map<string, number>();
  for await (const ex of readExamples(`${DATA}/train.jsonl`)) {
    countWords(ex.text, { lowercase: true }, counts);
  }
  const vocab = trainWordPiece(counts, { vocabSize: 4000, minFrequency: 2 });
  await createScratchModel(dir, {
    vocab: vocab.tokens,
    hiddenSize: 128,
    numLayers: 2,
    numHeads: 2,
    intermediateSize: 512,
    maxPositions: 128,
    head: "sequence_classification",
    labels: ["ham", "spam"],
    seed: 42,
  });
  return dir;
}

/** Runs the built-in default and prints where its results are. */
export async function defaultRun(onEvent: (e: RunEvent) => void): Promise<TrainResult> {
  const info = (message: string) => onEvent({ type: "info", message });
  if (!(await exists(`${DATA}/train.jsonl`))) {
    throw new InputError(
      `the bundled data set ${DATA}/ is missing: run \`deno task prepare-data\` in the repository root`,
    );
  }
  let model = SHIPPED_MODEL;
  let lr = 5e-4;
  if (!(await exists(`${SHIPPED_MODEL}/model.safetensors`))) {
    info(
      "addrop default run: no pretrained model is shipped yet, so a small BERT (2 layers, hidden 128) is trained " +
        "FROM SCRATCH on SpamAssassin ham vs spam, with AD-DROP (grad attribution, first layer, cross-tuning).",
    );
    model = await scratchModel("runs/default-scratch-model", info);
    lr = 1e-3;
  } else {
    info(`addrop default run: fine-tuning ${SHIPPED_MODEL} on SpamAssassin ham vs spam with AD-DROP`);
  }
  const options = parseTrainOptions({
    model,
    train: `${DATA}/train.jsonl`,
    validation: `${DATA}/validation.jsonl`,
    outputDir: `runs/default-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}`,
    epochs: 3,
    batchSize: 16,
    maxLength: 64,
    learningRate: lr,
    warmupRatio: 0.1,
  }, "the default run");
  const result = await train(options, onEvent);
  info(`done: best epoch ${result.bestEpoch}, ${result.metricName} ${result.bestMetric?.toFixed(4)}`);
  info(`results: ${result.outputDir}/eval_results.json, checkpoint: ${result.outputDir}/`);
  return result;
}
