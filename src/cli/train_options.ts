/**
 * The options of `deno task train` (and of `train()` in `mod.ts`): one zod schema validates flags and `--config`
 * files alike, and every problem (unknown keys, bad values) is listed in one error.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";

const GLUE_TASKS = ["cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli"] as const;
/** Tasks with built-in readers. */
export const TASKS = [...GLUE_TASKS, "conll2003"] as const;

const num = z.coerce.number().refine(Number.isFinite, "must be a finite number");
const int = z.coerce.number().int("must be an integer");
const prob = num.pipe(z.number().min(0, "must be in [0, 1]").max(1, "must be in [0, 1]"));
const bool = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

/** `all`, or a comma-separated list / array of layer indices. */
const layers = z.union([
  z.literal("all"),
  z.array(int.pipe(z.number().min(0, "layer indices must be >= 0"))).min(1, "give at least one layer"),
  z.string().regex(/^\d+(,\d+)*$/, "must be `all` or comma-separated layer indices like 0,3").transform((s) =>
    s.split(",").map(Number)
  ),
]);

/** The schema of every training option, with the defaults of the CLI. */
export const trainOptionsSchema = z.strictObject({
  model: z.string().optional(),
  train: z.string().optional(),
  validation: z.string().optional(),
  task: z.enum(TASKS).optional(),
  dataDir: z.string().optional(),
  textColumn: z.string().default("text"),
  textPairColumn: z.string().default("text_pair"),
  labelColumn: z.string().default("label"),
  /** Translation (Marian checkpoints): the source and target columns of the pair files. */
  sourceColumn: z.string().default("source"),
  /** Translation: beams of the validation translations (default: the config's `num_beams`). */
  numBeams: int.pipe(z.number().min(1, "must be an integer >= 1")).optional(),
  targetColumn: z.string().default("target"),
  labelMap: z.string().optional(),
  skipBadRows: bool.default(false),
  /**
   * Use only the first N training examples, in file order, before shuffling (Hugging Face run_glue.py's
   * `--max_train_samples`); N larger than the file uses every example. For quick runs and fixed budgets.
   */
  maxTrainSamples: int.pipe(z.number().min(1, "must be an integer >= 1 (leave it out to use every example)"))
    .optional(),
  /** Evaluate on only the first N examples of each validation split, in file order (`--max_eval_samples`). */
  maxEvalSamples: int.pipe(z.number().min(1, "must be an integer >= 1 (leave it out to use every example)"))
    .optional(),
  outputDir: z.string().optional(),
  seed: int.pipe(z.number().min(0).max(2 ** 32 - 1)).default(42),
  epochs: num.pipe(z.number().positive("must be > 0")).default(3),
  maxSteps: int.pipe(z.number().min(-1)).default(-1),
  batchSize: int.pipe(z.number().min(1, "must be >= 1")).default(16),
  maxLength: int.pipe(z.number().min(2, "must be >= 2").max(4096)).default(128),
  learningRate: num.pipe(z.number().positive("must be > 0")).default(2e-5),
  lrSchedule: z.enum(["linear", "constant"]).default("linear"),
  warmupRatio: prob.default(0),
  maxGradNorm: num.pipe(z.number().min(0, "must be >= 0 (0 turns clipping off)")).default(1),
  gradientAccumulationSteps: int.pipe(z.number().min(1)).default(1),
  adamEpsilon: num.pipe(z.number().positive()).default(1e-8),
  weightDecay: num.pipe(z.number().min(0)).default(0.01),
  hiddenDropout: prob.optional(),
  attentionDropout: prob.optional(),
  shuffle: bool.default(true),
  metric: z.string().optional(),
  patience: int.pipe(z.number().min(1)).optional(),
  resume: bool.default(false),
  adDrop: bool.default(true),
  attribution: z.enum(["grad", "ig", "attention", "random"]).default("grad"),
  p: prob.default(0.3),
  q: prob.default(0.2),
  layers: layers.default([0]),
  crossTuning: bool.default(true),
  igSteps: int.pipe(z.number().min(1, "must be >= 1").max(1000)).default(20),
  selection: z.enum(["high", "low"]).default("high"),
});

/** Validated training options. */
export type TrainOptions = z.output<typeof trainOptionsSchema>;
/** Training options as a caller may give them (defaults filled in by {@linkcode parseTrainOptions}). */
export type TrainOptionsInput = z.input<typeof trainOptionsSchema>;

/** Raised when options are invalid; lists every problem. */
export class OptionsError extends Error {
  override name = "OptionsError";
  constructor(readonly source: string, readonly problems: string[]) {
    super(`invalid options in ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** `learningRate` -> `--learning-rate`. */
export function flagName(key: string): string {
  return "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/**
 * Validates raw options (camelCase keys) from `source` (`command line` or a config file's path). Problems name
 * the flag, the value given and what was expected.
 */
export function parseTrainOptions(raw: Record<string, unknown>, source = "options"): TrainOptions {
  const res = trainOptionsSchema.safeParse(raw);
  if (res.success) return res.data;
  const problems = res.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return `unknown option${issue.keys.length > 1 ? "s" : ""} ${
        issue.keys.map((k) => `'${k}'`).join(", ")
      }`;
    }
    const key = String(issue.path[0] ?? "");
    const given = key in raw ? JSON.stringify(raw[key]) : "nothing";
    return `${flagName(key)} (${key}): ${issue.message}; got ${given}`;
  });
  throw new OptionsError(source, problems);
}

/**
 * Merges a `--config` JSON file under the flags given on the command line (flags win) and validates the
 * result. Keys in the file are camelCase (`learningRate`) or kebab-case (`learning-rate`).
 */
export async function loadTrainOptions(
  flags: Record<string, unknown>,
  configPath?: string,
): Promise<TrainOptions> {
  if (!configPath) return parseTrainOptions(flags, "command line");
  let text: string;
  try {
    text = await Deno.readTextFile(configPath);
  } catch (e) {
    throw new OptionsError(configPath, [`cannot read the config file: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new OptionsError(configPath, [`not valid JSON: ${(e as Error).message}`]);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new OptionsError(configPath, ["the config file must hold one JSON object of options"]);
  }
  const fromFile: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) fromFile[k.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
  const merged = { ...fromFile };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;
  return parseTrainOptions(merged, `${configPath} and the command line`);
}
