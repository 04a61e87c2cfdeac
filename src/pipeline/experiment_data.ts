/**
 * Inputs `deno task results` prepares before runs: hash-ordered copies of data files that are in reading order
 * (so that `--max-train-samples N` takes a spread of the whole file, not its first documents), and the
 * from-scratch baseline: a randomly initialised model with the architecture, vocabulary and tokenizer of the
 * pretrained one.
 *
 * @module
 */
import { hashOrder } from "../data/split.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { loadConfig, type ModelConfig } from "../model/config.ts";
import { createScratchModel } from "../model/scratch.ts";
import { isConllFile } from "./data.ts";
import { InputError } from "../io/input_error.ts";
import { exists } from "../io/exists.ts";

/**
 * Writes `src`'s examples to `dst` in `hashOrder` (idHash of each JSONL line, or of each CoNLL sentence block):
 * a fixed pseudo-random order, the same on every machine.
 */
export async function writeHashOrdered(src: string, dst: string): Promise<void> {
  const text = await Deno.readTextFile(src);
  if (isConllFile(src)) {
    const blocks = text.split(/\r?\n[ \t]*\r?\n/).map((b) => b.trim()).filter(Boolean);
    await writeFileAtomic(dst, hashOrder(blocks, (b) => b).join("\n\n") + "\n");
  } else {
    const lines = text.split(/\r?\n/).filter((l) => l.trim());
    await writeFileAtomic(dst, hashOrder(lines, (l) => l).join("\n") + "\n");
  }
}

/** The configuration fields that make two BERTs the same architecture. */
const SAME = [
  "modelType",
  "hiddenSize",
  "numLayers",
  "numHeads",
  "intermediateSize",
  "hiddenAct",
  "layerNormEps",
  "maxPositionEmbeddings",
  "typeVocabSize",
  "vocabSize",
  "padTokenId",
  "embeddingSize",
  "head",
  "hiddenDropout",
  "attentionDropout",
] as const satisfies readonly (keyof ModelConfig)[];

const TOKENIZER_FILES = ["vocab.txt", "tokenizer.json", "tokenizer_config.json"];

/**
 * A randomly initialised copy of the BERT in `model` (same configuration, same head kind, so the task head is
 * added by `train()` exactly as for the pretrained model; same tokenizer files) written to `dir` with weights
 * drawn from `seed`; kept if it already exists. Returns `dir`.
 */
export async function scratchCopy(model: string, dir: string, seed: number): Promise<string> {
  if (await exists(`${dir}/model.safetensors`)) return dir;
  const cfg = await loadConfig(`${model}/config.json`);
  if (cfg.modelType !== "bert") {
    throw new InputError(
      `scratch baseline: ${model} is a ${cfg.modelType} model; only BERT can be made from scratch`,
    );
  }
  if (!["gelu", "gelu_new", "relu"].includes(cfg.hiddenAct)) {
    throw new InputError(`scratch baseline: ${model}/config.json has hidden_act '${cfg.hiddenAct}'`);
  }
  const vocab = (await Deno.readTextFile(`${model}/vocab.txt`)).replace(/\r?\n$/, "").split(/\r?\n/);
  if (vocab.length !== cfg.vocabSize) {
    throw new InputError(
      `scratch baseline: ${model}/vocab.txt has ${vocab.length} tokens, config.json vocab_size ${cfg.vocabSize}`,
    );
  }
  // Written next to its final place and renamed, so an interrupted write never looks like a finished model.
  const part = `${dir}.partial`;
  await Deno.remove(part, { recursive: true }).catch(() => {});
  const classification = cfg.head === "sequence_classification" || cfg.head === "token_classification";
  await createScratchModel(part, {
    vocab,
    hiddenSize: cfg.hiddenSize,
    numLayers: cfg.numLayers,
    numHeads: cfg.numHeads,
    intermediateSize: cfg.intermediateSize,
    maxPositions: cfg.maxPositionEmbeddings,
    head: cfg.head,
    ...(classification ? { labels: cfg.id2label } : {}),
    seed,
    hiddenAct: cfg.hiddenAct as "gelu" | "gelu_new" | "relu",
    dropout: cfg.hiddenDropout,
  });
  for (const f of TOKENIZER_FILES) {
    await Deno.copyFile(`${model}/${f}`, `${part}/${f}`).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  const made = await loadConfig(`${part}/config.json`);
  const differ = SAME.filter((k) => made[k] !== cfg[k]);
  if (differ.length) {
    throw new InputError(
      `scratch baseline: the new model differs from ${model} in ${
        differ.map((k) => `${k} (${made[k]} vs ${cfg[k]})`).join(", ")
      }`,
    );
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.rename(part, dir);
  return dir;
}
