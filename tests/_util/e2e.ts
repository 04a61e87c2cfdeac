/**
 * Helpers of the end-to-end tests: a deterministic subset of the bundled spam task, tiny scratch BERTs (their
 * vocabulary learned from the subset, or a fixed word list), and a search for leftover temporary files.
 *
 * @module
 */
import { countWords, SPECIAL_TOKENS, trainWordPiece } from "../../src/data/wordpiece.ts";
import type { HeadKind } from "../../src/model/config.ts";
import { createScratchModel } from "../../src/model/scratch.ts";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { writeSafetensors } from "../../src/io/safetensors_writer.ts";

/** The repository root (subprocess tests run there). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** A small classification task written to files. */
export interface SmallTask {
  train: string;
  validation: string;
  /** Share of the validation subset's most frequent label: the accuracy of always guessing it. */
  majorityShare: number;
  labels: string[];
}

async function firstLines(path: string, n: number): Promise<string[]> {
  const lines = (await Deno.readTextFile(path)).split("\n").filter(Boolean);
  if (lines.length < n) throw new Error(`${path} has ${lines.length} rows, the test needs ${n}`);
  return lines.slice(0, n);
}

/** The first `train` / `validation` rows of data/spam (file order: deterministic) written into `dir`. */
export async function spamTask(
  dir: string,
  sizes: { train: number; validation: number },
): Promise<SmallTask> {
  const train = await firstLines(`${ROOT}data/spam/train.jsonl`, sizes.train);
  const validation = await firstLines(`${ROOT}data/spam/validation.jsonl`, sizes.validation);
  await Deno.writeTextFile(`${dir}/train.jsonl`, train.join("\n") + "\n");
  await Deno.writeTextFile(`${dir}/validation.jsonl`, validation.join("\n") + "\n");
  const counts = new Map<string, number>();
  for (const l of validation) {
    const label = JSON.parse(l).label as string;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return {
    train: `${dir}/train.jsonl`,
    validation: `${dir}/validation.jsonl`,
    majorityShare: Math.max(...counts.values()) / validation.length,
    labels: [...counts.keys()].sort(),
  };
}

/** Sizes of a tiny scratch BERT. */
export interface TinySizes {
  hidden?: number;
  layers?: number;
  heads?: number;
  maxPositions?: number;
  seed?: number;
  /**
   * Multiplies every weight but the LayerNorm ones after the standard initialisation (std 0.02): an untrained
   * model's predictions then differ from input to input instead of all being one class.
   */
  initScale?: number;
}

/** A scratch BERT in `dir` whose WordPiece vocabulary (`vocabSize` tokens) is learned from a JSONL file. */
export async function modelFromData(
  dir: string,
  jsonl: string,
  o: TinySizes & { vocabSize: number; head: HeadKind; labels: string[] },
): Promise<string> {
  const counts = new Map<string, number>();
  for (const l of (await Deno.readTextFile(jsonl)).split("\n").filter(Boolean)) {
    countWords(JSON.parse(l).text, { lowercase: true }, counts);
  }
  const vocab = trainWordPiece(counts, { vocabSize: o.vocabSize, minFrequency: 2 });
  return await tinyModel(dir, vocab.tokens, o);
}

/** Words of the fixed vocabulary of {@link wordModel}: every test sentence is made of them. */
export const WORDS: readonly string[] = (
  "the a cat dog sat on mat is was not good bad great movie film plot very i you he she it they like love " +
  "hate this that and but with runs play walk happy sad paris london john mary city lives in to of at . , !"
).split(" ");

/** A scratch BERT over the fixed vocabulary {@link WORDS} (plus `##s`). */
export async function wordModel(
  dir: string,
  o: TinySizes & { head: HeadKind; labels?: string[] },
): Promise<string> {
  return await tinyModel(dir, [...SPECIAL_TOKENS, ...WORDS, "##s"], o);
}

async function tinyModel(
  dir: string,
  vocab: string[],
  o: TinySizes & { head: HeadKind; labels?: string[] },
): Promise<string> {
  const hidden = o.hidden ?? 32;
  await createScratchModel(dir, {
    vocab,
    hiddenSize: hidden,
    numLayers: o.layers ?? 1,
    numHeads: o.heads ?? 2,
    intermediateSize: 2 * hidden,
    maxPositions: o.maxPositions ?? 64,
    head: o.head,
    ...(o.labels ? { labels: o.labels } : {}),
    seed: o.seed ?? 1,
  });
  if (o.initScale !== undefined) await scaleWeights(`${dir}/model.safetensors`, o.initScale);
  return dir;
}

async function scaleWeights(path: string, scale: number): Promise<void> {
  const src = await openSafetensors(path);
  const tensors = [];
  try {
    for (const name of src.names()) {
      const data = await src.get(name);
      if (!name.includes("LayerNorm")) data.forEach((x, i) => (data[i] = x * scale));
      tensors.push({ name, shape: src.info(name).shape, data });
    }
  } finally {
    src.close();
  }
  await writeSafetensors(path, tensors);
}

/** A deterministic sentence of `n` words from {@link WORDS}, the `i`-th of a sequence. */
export function sentence(i: number, n: number): string {
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(WORDS[(i * 7 + k * 13 + ((i * k) % 5)) % WORDS.length]);
  return out.join(" ");
}

/** Paths (relative to `dir`) of every `*.tmp` file below `dir`. */
export async function tmpFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await tmpFiles(`${dir}/${e.name}`, `${prefix}${e.name}/`));
    else if (e.name.endsWith(".tmp")) out.push(`${prefix}${e.name}`);
  }
  return out;
}

/** The lines of a JSONL file, parsed. */
export async function readJsonl<T = Record<string, unknown>>(path: string): Promise<T[]> {
  return (await Deno.readTextFile(path)).split("\n").filter(Boolean).map((l) => JSON.parse(l) as T);
}

/** A JSON file, parsed. */
export async function readJson<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}
