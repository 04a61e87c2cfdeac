/**
 * The nine GLUE tasks as distributed in `glue_data/<Task>/*.tsv` (the layout transformers' GLUE processors,
 * `data/processors/glue.py`, read): per task the columns, the label set and the dev splits. Files are read
 * with Python's QUOTE_NONE convention: a `"` inside a sentence is an ordinary character.
 *
 * @module
 */
import { join } from "node:path";
import { type Column, delimitedRows, type Example, exampleFromRow, type RowSpec } from "./examples.ts";
import { type BadRowOptions, DataReader, type RowResult } from "./reader.ts";
import { readRecords } from "./source.ts";

/** The GLUE task names. */
export const GLUE_TASKS = ["cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli"] as const;
/** One GLUE task name. */
export type GlueTask = typeof GLUE_TASKS[number];

/** How one GLUE task's TSV files are laid out. */
export interface GlueSpec {
  /** The task's folder in `glue_data/`. */
  dir: string;
  /** Text, pair and label columns: header names, or 0-based indices in headerless train/dev files (CoLA). */
  text: Column;
  textPair?: Column;
  label: Column;
  /** False when train/dev have no header row (CoLA); test files always have one. */
  header: boolean;
  /** Text column of the test file when it differs (CoLA's test has `index\tsentence`). */
  testText?: string;
  /** The label set; empty for regression (STS-B). */
  labels: readonly string[];
  regression: boolean;
  /** Dev split file names (without `.tsv`) with the metric-name suffix of each (MNLI mismatched: `_mm`). */
  devSplits: readonly { split: string; suffix: string }[];
}

const dev = [{ split: "dev", suffix: "" }] as const;
const binary = ["0", "1"] as const;
const entail = ["entailment", "not_entailment"] as const;

/** A task with a header row, read by column names. */
function named(
  dir: string,
  [text, textPair, label]: [string, string | undefined, string],
  labels: readonly string[],
  more: Partial<GlueSpec> = {},
): GlueSpec {
  return { dir, text, textPair, label, header: true, labels, regression: false, devSplits: dev, ...more };
}

/** The layout of every GLUE task (see transformers' `glue.py` processors). */
export const GLUE: Readonly<Record<GlueTask, GlueSpec>> = {
  // CoLA train/dev: no header; columns source, label, original label ("*" or empty), sentence.
  // test.tsv: index, sentence.
  cola: {
    dir: "CoLA",
    text: 3,
    label: 1,
    header: false,
    testText: "sentence",
    labels: binary,
    regression: false,
    devSplits: dev,
  },
  // sentence, label (test: index, sentence).
  sst2: named("SST-2", ["sentence", undefined, "label"], binary),
  // Quality, #1 ID, #2 ID, #1 String, #2 String (train.tsv starts with a byte-order mark).
  mrpc: named("MRPC", ["#1 String", "#2 String", "Quality"], binary),
  // index genre filename year old_index source1 source2 sentence1 sentence2 score.
  stsb: named("STS-B", ["sentence1", "sentence2", "score"], [], { regression: true }),
  // id qid1 qid2 question1 question2 is_duplicate (test: id question1 question2).
  qqp: named("QQP", ["question1", "question2", "is_duplicate"], binary),
  // index promptID pairID genre sentence{1,2}_binary_parse sentence{1,2}_parse sentence1 sentence2 label1
  // [label2 .. label5 in dev] gold_label.
  mnli: named("MNLI", ["sentence1", "sentence2", "gold_label"], ["contradiction", "entailment", "neutral"], {
    devSplits: [{ split: "dev_matched", suffix: "" }, { split: "dev_mismatched", suffix: "_mm" }],
  }),
  // index question sentence label.
  qnli: named("QNLI", ["question", "sentence", "label"], entail),
  // index sentence1 sentence2 label.
  rte: named("RTE", ["sentence1", "sentence2", "label"], entail),
  wnli: named("WNLI", ["sentence1", "sentence2", "label"], binary),
};

/** Options of {@link readGlue}. */
export type GlueOptions = BadRowOptions;

/** Throws unless `task` is a GLUE task name. */
export function glueTask(task: string): GlueTask {
  if ((GLUE_TASKS as readonly string[]).includes(task)) return task as GlueTask;
  throw new RangeError(`unknown GLUE task '${task}' (expected one of ${GLUE_TASKS.join(", ")})`);
}

/** The TSV path of a split: `<dataDir>/<split>.tsv`, or `<dataDir>/<Task dir>/<split>.tsv` when that exists. */
export function glueFile(dataDir: string, task: GlueTask, split: string): string {
  const direct = join(dataDir, `${split}.tsv`);
  const nested = join(dataDir, GLUE[task].dir, `${split}.tsv`);
  try {
    Deno.statSync(direct);
    return direct;
  } catch {
    try {
      Deno.statSync(nested);
      return nested;
    } catch {
      throw new Deno.errors.NotFound(`GLUE ${task} split '${split}': neither ${direct} nor ${nested} exists`);
    }
  }
}

/**
 * Reads one split (`train`, `dev`, `dev_matched`, `dev_mismatched`, `test`, `test_matched`, ...) of a GLUE
 * task; labels are required except in `test*` splits, and a label outside the task's label set is a bad row.
 *
 * @example
 * ```ts
 * import { readGlue } from "./glue.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/dev.tsv`, 'sentence\tlabel\nit\'s "fine"\t1\n');
 * console.log(await readGlue(dir, "sst2", "dev").readAll()); // [{ text: 'it\'s "fine"', label: "1" }]
 * ```
 */
export function readGlue(
  dataDir: string,
  task: GlueTask,
  split: string,
  options: GlueOptions = {},
): DataReader<Example<string | number>> {
  const spec = GLUE[glueTask(task)];
  const path = glueFile(dataDir, task, split);
  const test = split.startsWith("test");
  const rowSpec: RowSpec = {
    text: test && spec.testText ? spec.testText : spec.text,
    textPair: spec.textPair,
    pairRequired: spec.textPair !== undefined,
    label: test ? undefined : spec.label,
    requireLabel: !test,
    labelType: spec.regression ? "number" : "string",
    labelSet: spec.regression ? undefined : new Set(spec.labels),
  };
  const format = { delimiter: "\t", quote: false };
  const rows = spec.header || test
    ? () => delimitedRows(path, rowSpec, format)
    : () => headerlessRows(path, rowSpec, format);
  return new DataReader(path, rows, options);
}

async function* headerlessRows(
  path: string,
  spec: RowSpec,
  format: { delimiter: string; quote: boolean },
): AsyncGenerator<RowResult<Example<string | number>>> {
  for await (const { fields, line } of readRecords(path, format)) {
    yield exampleFromRow((c) => fields[c as number], spec, path, line);
  }
}
