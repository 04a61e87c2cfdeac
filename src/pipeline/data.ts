/**
 * Loading a run's data: GLUE tasks from `--data-dir`, CoNLL-2003 for token classification, or JSONL/CSV/TSV
 * (and `.conll`) files with configurable columns. Every reader reports bad rows with file and line.
 *
 * @module
 */
import { readConll, type TokenExample } from "../data/conll.ts";
import { type Example, readExamples } from "../data/examples.ts";
import { GLUE, type GlueTask, readGlue } from "../data/glue.ts";
import type { DataReader } from "../data/reader.ts";
import { DataError } from "../data/source.ts";
import { InputError } from "../io/input_error.ts";

/** A validation split with the suffix its metric keys get (MNLI mismatched: `_mm`). */
export interface Split<T> {
  name: string;
  suffix: string;
  examples: T[];
}

/** A run's data: sequence (text/pair) or token examples. */
export type RunData =
  | {
    kind: "sequence";
    regression: boolean;
    train: Example<string | number>[];
    validation: Split<Example<string | number>>[];
    skipped: number;
  }
  | {
    kind: "token";
    regression: false;
    train: TokenExample[];
    validation: Split<TokenExample>[];
    skipped: number;
  };

/** Where the data comes from (a subset of the training options). */
export interface DataOptions {
  task?: GlueTask | "conll2003";
  dataDir?: string;
  train?: string;
  validation?: string;
  textColumn: string;
  textPairColumn: string;
  labelColumn: string;
  skipBadRows: boolean;
  /** Regression labels for plain files (a checkpoint with num_labels 1). */
  regression?: boolean;
}

/** True for CoNLL-style token files. */
export function isConllFile(path: string): boolean {
  return /\.(conll|conllu|bio|iob|txt)$/i.test(path);
}

/**
 * The text examples of a prediction input (`predict`, `attribute`; labels optional): `textColumn` (default
 * `text`), and the pair column `text_pair` when the file has one, or `textPairColumn`, then required.
 */
export function readTextInput(
  path: string,
  o: { textColumn?: string; textPairColumn?: string },
): DataReader<Example<string | number>> {
  return readExamples(path, {
    requireLabel: false,
    textColumn: o.textColumn ?? "text",
    textPairColumn: o.textPairColumn === "text_pair" ? undefined : o.textPairColumn,
  });
}

/**
 * Throws unless an input file suits the checkpoint's head (`predict`, `attribute`): a token-classification head
 * reads CoNLL-style files, the other heads JSONL / CSV / TSV.
 */
export function assertInputForHead(path: string, token: boolean): void {
  if (token && !isConllFile(path)) {
    const want = "a token-classification checkpoint reads a CoNLL file (.conll, .conllu, .bio, .iob or .txt)";
    throw new DataError(path, 0, want);
  }
  if (!token && isConllFile(path)) {
    throw new DataError(path, 0, "a CoNLL file needs a token-classification checkpoint");
  }
}

async function drain<T>(reader: DataReader<T>): Promise<{ items: T[]; skipped: number }> {
  const items = await reader.readAll();
  return { items, skipped: reader.skipped };
}

/** Loads the training and validation data a run needs (validation may be absent). */
export async function loadRunData(o: DataOptions, needTrain = true): Promise<RunData> {
  const bad = { skipBadRows: o.skipBadRows };
  if (o.task && o.task !== "conll2003") {
    const dir = o.dataDir ?? ".";
    const spec = GLUE[o.task];
    const train = needTrain ? await drain(readGlue(dir, o.task, "train", bad)) : { items: [], skipped: 0 };
    const validation: Split<Example<string | number>>[] = [];
    let skipped = train.skipped;
    for (const d of spec.devSplits) {
      const r = await drain(readGlue(dir, o.task, d.split, bad));
      skipped += r.skipped;
      validation.push({ name: d.split, suffix: d.suffix, examples: r.items });
    }
    return { kind: "sequence", regression: spec.regression, train: train.items, validation, skipped };
  }
  const trainPath = o.train ?? (o.task === "conll2003" ? `${o.dataDir ?? "."}/train.txt` : undefined);
  const validPath = o.validation ?? (o.task === "conll2003" ? `${o.dataDir ?? "."}/valid.txt` : undefined);
  if (needTrain && !trainPath) {
    throw new InputError("no training data: give --train FILE or --task with --data-dir");
  }
  const token = o.task === "conll2003" || [trainPath, validPath].some((p) => p && isConllFile(p));
  if (token) {
    const train = needTrain && trainPath ? await drain(readConll(trainPath, bad)) : { items: [], skipped: 0 };
    const valid = validPath ? await drain(readConll(validPath, bad)) : null;
    return {
      kind: "token",
      regression: false,
      train: train.items,
      validation: valid ? [{ name: "validation", suffix: "", examples: valid.items }] : [],
      skipped: train.skipped + (valid?.skipped ?? 0),
    };
  }
  const opts = {
    textColumn: o.textColumn,
    // The default pair column is used when present; only a column named by the user is required.
    textPairColumn: o.textPairColumn === "text_pair" ? undefined : o.textPairColumn,
    labelColumn: o.labelColumn,
    skipBadRows: o.skipBadRows,
  };
  const read = (path: string) =>
    o.regression
      ? drain(readExamples(path, { ...opts, labelType: "number" }))
      : drain(readExamples(path, opts));
  const train = needTrain && trainPath ? await read(trainPath) : { items: [], skipped: 0 };
  const valid = validPath ? await read(validPath) : null;
  return {
    kind: "sequence",
    regression: !!o.regression,
    train: train.items as Example<string | number>[],
    validation: valid
      ? [{ name: "validation", suffix: "", examples: valid.items as Example<string | number>[] }]
      : [],
    skipped: train.skipped + (valid?.skipped ?? 0),
  };
}

/**
 * `--max-train-samples` / `--max-eval-samples`: the first N examples of the training data and of each validation
 * split, in file order (shuffling happens later, per epoch), as in Hugging Face's run_glue.py.
 */
export function limitSamples(
  data: RunData,
  o: { maxTrainSamples?: number; maxEvalSamples?: number },
  info: (message: string) => void = () => {},
): RunData {
  const cut = <T>(xs: T[], n: number | undefined, what: string): T[] => {
    if (n === undefined) return xs;
    if (n >= xs.length) {
      info(`${what} ${n}: the data has ${xs.length} examples, all used`);
      return xs;
    }
    return xs.slice(0, n);
  };
  const train = cut(data.train as unknown[], o.maxTrainSamples, "--max-train-samples");
  const validation = data.validation.map((s) => ({
    ...s,
    examples: cut(s.examples as unknown[], o.maxEvalSamples, `--max-eval-samples (${s.name})`),
  }));
  return { ...data, train, validation } as RunData;
}
