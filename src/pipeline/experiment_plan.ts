/**
 * What `deno task results` runs: the bundled tasks with their per-run budgets (one table), the ten
 * configurations (plain fine-tuning, the same architecture from scratch, and AD-DROP with gradient or
 * integrated-gradient attribution, on the first layer or all layers, with and without cross-tuning), the
 * validated options, the list of planned runs (seed-major, so a partial experiment has every cell) and the
 * command line that reproduces them.
 *
 * @module
 */
import { OptionsError, parseTrainOptions, type TrainOptions } from "../cli/train_options.ts";
import type { Gpu } from "../gpu/device.ts";

/** The ten configurations, in the order of the results table. */
export const CONFIGS = [
  "plain",
  "scratch",
  "grad_L0_ct",
  "grad_L0",
  "grad_all_ct",
  "grad_all",
  "ig_L0_ct",
  "ig_L0",
  "ig_all_ct",
  "ig_all",
] as const;
/** A configuration name. */
export type ConfigName = typeof CONFIGS[number];

/** The size of one run: what `--max-train-samples`, `--epochs`, ... are for `train`. */
export interface Budget {
  maxTrainSamples: number;
  maxEvalSamples: number;
  epochs: number;
  batchSize: number;
  maxLength: number;
  learningRate: number;
}
/** The budget fields, in the order of their flags. */
export const BUDGET_KEYS = [
  "maxTrainSamples",
  "maxEvalSamples",
  "epochs",
  "batchSize",
  "maxLength",
  "learningRate",
] as const satisfies readonly (keyof Budget)[];

/** A budget override: one value for every task, or values by task name. */
export type BudgetOverrides = { [K in keyof Budget]?: number | Record<string, number> };

/** A held-out test set the best checkpoint is also evaluated on (its own table column). */
export interface TestSet {
  /** Key in results.json, e.g. `hard_ham`. */
  name: string;
  /** Column title, e.g. `spam (hard ham)`. */
  title: string;
  file: string;
}

/** One task of the experiment. */
export interface ExperimentTask {
  train: string;
  validation: string;
  /** The metric reported (the best epoch's validation value) and used to pick the best epoch. */
  metric: string;
  /** What the metric is, for the report (e.g. `token accuracy`). */
  description: string;
  tests?: TestSet[];
  /**
   * The files are in reading order (grouped by source document): train on hash-ordered copies instead, so the
   * first N examples spread over every genre and file.
   */
  hashOrder?: boolean;
  budget: Budget;
}

/** The default per-run budget of the bundled tasks (sized for a 2-core machine with a software adapter). */
const BUDGET: Budget = {
  maxTrainSamples: 320,
  maxEvalSamples: 200,
  epochs: 2,
  batchSize: 16,
  maxLength: 64,
  learningRate: 1e-3,
};

/** The bundled tasks (data/README.md) and their default budgets: the one table to edit. */
export const DEFAULT_TASKS: Readonly<Record<string, ExperimentTask>> = {
  spam: {
    train: "data/spam/train.jsonl",
    validation: "data/spam/validation.jsonl",
    metric: "accuracy",
    description: "accuracy",
    tests: [{ name: "hard_ham", title: "spam (hard ham)", file: "data/spam/hard_ham_test.jsonl" }],
    budget: BUDGET,
  },
  brown_genre: {
    train: "data/brown_genre/train.jsonl",
    validation: "data/brown_genre/validation.jsonl",
    metric: "accuracy",
    description: "accuracy over 15 genres",
    hashOrder: true,
    budget: BUDGET,
  },
  brown_pos: {
    train: "data/brown_pos/train.conll",
    validation: "data/brown_pos/validation.conll",
    metric: "accuracy",
    description: "token accuracy over 12 universal tags, scored on each word's first sub-token",
    hashOrder: true,
    budget: BUDGET,
  },
};

/** Options of {@linkcode runExperiments}; everything but `gpu` has a default. */
export interface ExperimentOptions {
  /** Task names (default spam, brown_genre, brown_pos). */
  tasks?: string[];
  /** Configurations (default all ten, in table order). */
  configs?: string[];
  /** Seeds (default 1..5). */
  seeds?: number[];
  /** Budget overrides on top of each task's defaults. */
  budget?: BudgetOverrides;
  /** Integration steps of integrated gradients (default 20). */
  igSteps?: number;
  /** The pretrained model (default models/addrop-tiny). */
  model?: string;
  /** Results folder (default runs/results); each run in `<output>/runs/<task>/<config>/seed<seed>/`. */
  output?: string;
  /** The Markdown report (default docs/results.md); the SVG goes next to it as results.svg. */
  doc?: string;
  /** Keep each run's checkpoints (`model.safetensors`, `last/`); by default they are deleted once scored. */
  keepCheckpoints?: boolean;
  /**
   * Cells not to run, as `task:config` patterns where either side may be `*` or end in `*` (e.g.
   * `brown_pos:ig_*`): for grids too big for the machine. Their table cells read "not run".
   */
  skip?: string[];
  /** Only list the planned runs. */
  dryRun?: boolean;
  /** The task definitions (default {@link DEFAULT_TASKS}); tests pass their own. */
  taskTable?: Readonly<Record<string, ExperimentTask>>;
  /** A device to reuse (left open); otherwise one is requested and destroyed at the end. */
  gpu?: Gpu;
}

/** Options with every default filled in and checked. */
export interface ResolvedOptions {
  tasks: string[];
  configs: ConfigName[];
  seeds: number[];
  budget: BudgetOverrides;
  igSteps: number;
  model: string;
  output: string;
  doc: string;
  keepCheckpoints: boolean;
  /** `task:config` patterns of cells not run. */
  skip: string[];
  taskTable: Readonly<Record<string, ExperimentTask>>;
  /** Each task's budget after the overrides. */
  budgets: Record<string, Budget>;
}

/** One planned run. */
export interface PlannedRun {
  task: string;
  config: ConfigName;
  seed: number;
  dir: string;
  /** The train options; `model`, `train` and `validation` are set when the run starts (scratch, copies). */
  options: TrainOptions;
}

const isConfig = (s: string): s is ConfigName => (CONFIGS as readonly string[]).includes(s);

/** The train options of a configuration (on top of the task's budget). */
export function configOptions(config: ConfigName, igSteps: number): Record<string, unknown> {
  if (config === "plain" || config === "scratch") return { adDrop: false };
  const [, attribution, layers, ct] = config.match(/^(grad|ig)_(L0|all)(_ct)?$/)!;
  return {
    adDrop: true,
    attribution,
    layers: layers === "all" ? "all" : [0],
    crossTuning: ct !== undefined,
    p: 0.3,
    q: 0.2,
    selection: "high",
    ...(attribution === "ig" ? { igSteps } : {}),
  };
}

/** Fills in the defaults and checks every option; an {@link OptionsError} lists each problem. */
export function resolveOptions(o: ExperimentOptions): ResolvedOptions {
  const taskTable = o.taskTable ?? DEFAULT_TASKS;
  const tasks = o.tasks ?? ["spam", "brown_genre", "brown_pos"];
  const configs = o.configs ?? [...CONFIGS];
  const seeds = o.seeds ?? [1, 2, 3, 4, 5];
  const problems: string[] = [];
  const known = Object.keys(taskTable).join(", ");
  if (!tasks.length) problems.push("--tasks: give at least one task");
  for (const t of tasks) {
    if (!(t in taskTable)) problems.push(`--tasks: unknown task '${t}' (known: ${known})`);
  }
  if (!configs.length) problems.push("--configs: give at least one configuration");
  for (const c of configs) {
    if (!isConfig(c)) problems.push(`--configs: unknown configuration '${c}' (known: ${CONFIGS.join(", ")})`);
  }
  if (!seeds.length) problems.push("--seeds: give at least one seed");
  for (const s of seeds) {
    if (!Number.isInteger(s) || s < 0 || s >= 2 ** 32) {
      problems.push(`--seeds: ${s} is not an integer in [0, 2^32)`);
    }
  }
  for (const [name, xs] of [["--tasks", tasks], ["--configs", configs], ["--seeds", seeds]] as const) {
    if (new Set<unknown>(xs).size !== xs.length) {
      problems.push(`${name}: a value is repeated in ${xs.join(",")}`);
    }
  }
  const igSteps = o.igSteps ?? 20;
  if (!Number.isInteger(igSteps) || igSteps < 1) {
    problems.push(`--ig-steps: expected an integer >= 1, got ${igSteps}`);
  }
  const budget = o.budget ?? {};
  for (const [key, v] of Object.entries(budget)) {
    if (!(BUDGET_KEYS as readonly string[]).includes(key)) problems.push(`unknown budget field '${key}'`);
    if (v !== null && typeof v === "object") {
      for (const t of Object.keys(v)) {
        if (!tasks.includes(t)) problems.push(`${flag(key)}: '${t}' is not one of the tasks run (${tasks})`);
      }
    }
  }
  const skip = o.skip ?? [];
  for (const pattern of skip) {
    const [t, c, ...rest] = pattern.split(":");
    if (c === undefined || rest.length || !t || !c) {
      problems.push(`--skip: '${pattern}' is not task:config (either side may be * or end in *)`);
    } else if (!tasks.some((x) => globMatch(t, x)) || !configs.some((x) => globMatch(c, x))) {
      problems.push(`--skip: '${pattern}' matches no task and configuration of this experiment`);
    }
  }
  if (problems.length) throw new OptionsError("results options", problems);
  const budgets: Record<string, Budget> = {};
  for (const t of tasks) {
    const b = { ...taskTable[t].budget };
    for (const key of BUDGET_KEYS) {
      const v = budget[key];
      const x = typeof v === "number" ? v : v?.[t];
      if (x !== undefined) b[key] = x;
    }
    budgets[t] = b;
  }
  return {
    tasks,
    configs: configs as ConfigName[],
    seeds,
    budget,
    igSteps,
    model: o.model ?? "models/addrop-tiny",
    output: o.output ?? "runs/results",
    doc: o.doc ?? "docs/results.md",
    keepCheckpoints: o.keepCheckpoints ?? false,
    skip,
    taskTable,
    budgets,
  };
}

/**
 * Every run in order: seed by seed, and within a seed task by task and configuration by configuration, so an
 * interrupted experiment has all cells at fewer seeds. Train options are validated here, before any run.
 */
export function planRuns(r: ResolvedOptions): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const seed of r.seeds) {
    for (const task of r.tasks) {
      const t = r.taskTable[task];
      for (const config of r.configs) {
        if (isSkipped(r, task, config)) continue;
        const dir = `${r.output}/runs/${task}/${config}/seed${seed}`;
        const options = parseTrainOptions({
          model: r.model,
          train: t.train,
          validation: t.validation,
          metric: t.metric,
          outputDir: dir,
          seed,
          ...r.budgets[task],
          ...configOptions(config, r.igSteps),
        }, `results run ${task} ${config} seed ${seed}`);
        runs.push({ task, config, seed, dir, options });
      }
    }
  }
  return runs;
}

/** `*`, `prefix*` or an exact name. */
function globMatch(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

/** Whether `--skip` leaves out the cell (task, config). */
export function isSkipped(r: Pick<ResolvedOptions, "skip">, task: string, config: string): boolean {
  return r.skip.some((pattern) => {
    const [t, c] = pattern.split(":");
    return globMatch(t, task) && globMatch(c, config);
  });
}

/** `maxTrainSamples` -> `--max-train-samples`. */
function flag(key: string): string {
  return "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** The `deno task results` command line that runs exactly these options (one flag per line). */
export function experimentCommand(r: ResolvedOptions): string {
  const parts = [
    `--tasks ${r.tasks.join(",")}`,
    `--configs ${r.configs.join(",")}`,
    `--seeds ${r.seeds.join(",")}`,
  ];
  for (const key of BUDGET_KEYS) {
    const v = r.budget[key];
    if (v === undefined) continue;
    const value = typeof v === "number" ? v : Object.entries(v).map(([t, x]) => `${t}=${x}`).join(",");
    parts.push(`${flag(key)} ${value}`);
  }
  parts.push(`--ig-steps ${r.igSteps}`, `--model ${r.model}`, `--output ${r.output}`, `--doc ${r.doc}`);
  if (r.skip.length) parts.push(`--skip ${r.skip.join(",")}`);
  if (r.keepCheckpoints) parts.push("--keep-checkpoints");
  return ["deno task results", ...parts].join(" \\\n  ");
}

/** One line per budget: `400 train / 300 validation examples, 3 epochs, batch 16, max length 64, lr 1e-4`. */
export function budgetText(b: Budget): string {
  return `first ${b.maxTrainSamples} training and ${b.maxEvalSamples} validation examples, ${b.epochs} epochs, ` +
    `batch ${b.batchSize}, max length ${b.maxLength}, learning rate ${b.learningRate}`;
}
