/**
 * The results of `deno task results`: runs grouped into cells (mean and sample standard deviation over seeds per
 * table column and configuration), results.json's shape, and the generated Markdown (what was run, the command
 * that reproduces it, the table, best AD-DROP vs plain in standard deviations, the plot). The generated part of
 * the doc sits between `<!-- results:begin -->` and `<!-- results:end -->`; text outside them is kept.
 *
 * @module
 */
import {
  type Budget,
  budgetText,
  type ConfigName,
  type ExperimentTask,
  isSkipped,
} from "./experiment_plan.ts";

/** One finished run. */
export interface ExperimentRun {
  task: string;
  config: ConfigName;
  seed: number;
  /** The task's metric; `value` is the best epoch's validation value (a fraction, e.g. accuracy 0.93). */
  metric: string;
  value: number | null;
  bestEpoch: number | null;
  /** Metrics of the best checkpoint on each of the task's test sets, by test name. */
  tests: Record<string, Record<string, number>>;
  /** Training, evaluation and test scoring of this run. */
  wallSeconds: number;
  adapter: string;
  outputDir: string;
}

/** A column of the table: a task's validation metric, or one of its test sets. */
export interface Column {
  title: string;
  task: string;
  /** The test set's name; absent for the validation column. */
  test?: string;
  metric: string;
}

/** The seeds of one (column, configuration) summarised. */
export interface ExperimentCell {
  column: string;
  task: string;
  config: ConfigName;
  metric: string;
  n: number;
  mean: number | null;
  /** Sample standard deviation (n - 1 in the denominator; 0 for one value). */
  std: number | null;
  /** The values by seed (seeds without a value left out). */
  seeds: number[];
  values: number[];
}

/** A task as results.json describes it. */
export interface TaskSummary {
  name: string;
  train: string;
  validation: string;
  metric: string;
  description: string;
  hashOrder: boolean;
  tests: { name: string; title: string; file: string }[];
  budget: Budget;
}

/** results.json. */
export interface ExperimentResults {
  /** When this file was written (ISO 8601). */
  generated: string;
  command: string;
  /** `--skip` patterns: cells deliberately not run. */
  skip?: string[];
  model: string;
  seeds: number[];
  configs: ConfigName[];
  tasks: TaskSummary[];
  columns: Column[];
  /** The adapters the runs trained on. */
  adapters: string[];
  /** Sum of the runs' wall times. */
  totalWallSeconds: number;
  /** Number of planned runs (runs.length < planned while the experiment is under way). */
  planned: number;
  runs: ExperimentRun[];
  cells: ExperimentCell[];
}

/** The table's columns: per task its validation metric, then each of its test sets. */
export function columnsOf(
  tasks: readonly string[],
  table: Readonly<Record<string, ExperimentTask>>,
): Column[] {
  return tasks.flatMap((task) => [
    { title: task, task, metric: table[task].metric },
    ...(table[task].tests ?? []).map((t) => ({
      title: t.title,
      task,
      test: t.name,
      metric: table[task].metric,
    })),
  ]);
}

/** A run's value in a column (null when it has none). */
export function columnValue(run: ExperimentRun, c: Column): number | null {
  const v = c.test === undefined ? run.value : run.tests[c.test]?.[c.metric];
  return v !== undefined && v !== null && Number.isFinite(v) ? v : null;
}

/** Mean and sample standard deviation of `xs` (null / 0 for no / one value). */
export function meanStd(xs: readonly number[]): { mean: number | null; std: number | null } {
  if (!xs.length) return { mean: null, std: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

/** One cell per (column, configuration), columns outer, configurations in the given order. */
export function summariseRuns(
  runs: readonly ExperimentRun[],
  columns: readonly Column[],
  configs: readonly ConfigName[],
): ExperimentCell[] {
  return columns.flatMap((c) =>
    configs.map((config) => {
      const rs = runs.filter((r) => r.task === c.task && r.config === config).sort((a, b) => a.seed - b.seed);
      const pairs = rs.map((r) => [r.seed, columnValue(r, c)] as const).filter(([, v]) => v !== null);
      const values = pairs.map(([, v]) => v!);
      return {
        column: c.title,
        task: c.task,
        config,
        metric: c.metric,
        n: values.length,
        ...meanStd(values),
        seeds: pairs.map(([s]) => s),
        values,
      };
    })
  );
}

/** The marker lines around the generated part of the doc. */
export const BEGIN = "<!-- results:begin -->";
/** See {@link BEGIN}. */
export const END = "<!-- results:end -->";

const pct = (x: number) => (100 * x).toFixed(1);

/** `97.1 ± 0.4`, with `(n)` when fewer or more seeds than planned gave a value. */
function cellText(c: ExperimentCell, seeds: number): string {
  if (c.mean === null) return "–";
  return `${pct(c.mean)} ± ${pct(c.std!)}${c.n !== seeds ? ` (${c.n})` : ""}`;
}

function duration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

/** The line of one column: the best AD-DROP configuration against plain, and plain against scratch. */
function comparison(cells: readonly ExperimentCell[]): string | null {
  const get = (k: string) => cells.find((c) => c.config === k && c.mean !== null);
  const plain = get("plain");
  const ad = cells.filter((c) => c.config !== "plain" && c.config !== "scratch" && c.mean !== null);
  const best = ad.reduce<ExperimentCell | null>((b, c) => (!b || c.mean! > b.mean! ? c : b), null);
  const parts: string[] = [];
  if (plain && best) {
    const d = best.mean! - plain.mean!;
    const pooled = Math.sqrt((plain.std! ** 2 + best.std! ** 2) / 2);
    const units = pooled > 0
      ? `${d >= 0 ? "+" : ""}${(d / pooled).toFixed(2)} pooled std`
      : "std 0, not defined";
    parts.push(
      `best AD-DROP config \`${best.config}\` ${pct(best.mean!)} vs plain ${pct(plain.mean!)}: ` +
        `${d >= 0 ? "+" : ""}${pct(d)} points = ${units} (n = ${best.n}, ${plain.n})`,
    );
  }
  const scratch = get("scratch");
  if (plain && scratch) {
    const d = plain.mean! - scratch.mean!;
    parts.push(`plain vs scratch (what pretraining buys): ${d >= 0 ? "+" : ""}${pct(d)} points`);
  }
  return parts.length ? `**${cells[0].column}**: ${parts.join("; ")}.` : null;
}

/** The generated part of docs/results.md (without the markers). */
export function resultsMarkdown(r: ExperimentResults, svgName: string): string {
  const seeds = r.seeds.length;
  const budgets = r.tasks.map((t) =>
    `${t.name} (${t.description}; ${budgetText(t.budget)}${
      t.hashOrder ? "; hash-ordered copies of the files, as they are in reading order" : ""
    }${t.tests.length ? `; best checkpoint also scored on ${t.tests.map((x) => x.file).join(", ")}` : ""})`
  );
  const finished = r.runs.length === r.planned
    ? ""
    : ` **Partial: ${r.runs.length} of ${r.planned} runs done.**`;
  const lines = [
    `_Generated by \`deno task results\` on ${r.generated.slice(0, 10)}; do not edit between the markers._`,
    "",
    `Model \`${r.model}\` fine-tuned without AD-DROP (\`plain\`), the same architecture and vocabulary from a ` +
    `random initialisation (\`scratch\`), and AD-DROP (p = 0.3, q = 0.2, highest-attribution positions) with ` +
    `gradient (\`grad\`) or integrated-gradient (\`ig\`) attribution on the first layer (\`L0\`) or all layers ` +
    `(\`all\`), with (\`_ct\`) or without cross-tuning, at seeds ${r.seeds.join(", ")}. Tasks: ` +
    `${budgets.join("; ")}. Each cell: the best epoch's validation metric (test-set columns: that epoch's ` +
    `checkpoint on the test set), in percent, mean ± sample std over seeds, \`(n)\` when fewer seeds gave a ` +
    `value; best mean per column in bold. Adapter: ${
      r.adapters.join(", ") || "none yet"
    }. ${r.runs.length} ` +
    `runs, ${duration(r.totalWallSeconds)} of wall time in all.${finished}`,
    "",
    `Reproduce (finished runs in the output folder are skipped; delete it to start over)${
      r.skip?.length ? '; cells marked "not run" were left out with `--skip` (drop it to run them)' : ""
    }:`,
    "",
    "```sh",
    r.command,
    "```",
    "",
  ];
  const header = ["config", ...r.columns.map((c) => c.title)];
  lines.push(`| ${header.join(" | ")} |`, `| ${header.map((_, i) => (i ? "---:" : "---")).join(" | ")} |`);
  const best = new Map(r.columns.map((c) => {
    const ms = r.cells.filter((x) => x.column === c.title && x.mean !== null).map((x) => x.mean!);
    return [c.title, ms.length ? Math.max(...ms) : null];
  }));
  for (const config of r.configs) {
    const row = r.columns.map((c) => {
      const cell = r.cells.find((x) => x.column === c.title && x.config === config)!;
      const text = cell.mean === null && isSkipped({ skip: r.skip ?? [] }, c.task, config)
        ? "not run"
        : cellText(cell, seeds);
      return cell.mean !== null && cell.mean === best.get(c.title) ? `**${text}**` : text;
    });
    lines.push(`| \`${config}\` | ${row.join(" | ")} |`);
  }
  lines.push("");
  for (const c of r.columns) {
    const line = comparison(r.cells.filter((x) => x.column === c.title));
    if (line) lines.push(`- ${line}`);
  }
  const adConfigs = r.configs.filter((c) => c !== "plain" && c !== "scratch").length;
  lines.push(
    "",
    `The best of ${adConfigs} AD-DROP configuration(s) is picked on the same numbers it is compared with, ` +
      "which favours AD-DROP; differences within about two standard deviations are not evidence either way.",
    "",
    `![results](${svgName})`,
  );
  return lines.join("\n");
}

/**
 * The doc with its generated part replaced: between the markers when `existing` has them (the rest kept),
 * otherwise a new file with a title and the markers.
 */
export function mergeDoc(existing: string | null, generated: string, path = "the doc"): string {
  const block = `${BEGIN}\n${generated}\n${END}`;
  if (existing !== null) {
    const a = existing.indexOf(BEGIN);
    const b = existing.indexOf(END, a + BEGIN.length);
    if (a >= 0 && b >= 0) return existing.slice(0, a) + block + existing.slice(b + END.length);
    if (a >= 0 || existing.includes(END)) {
      throw new Error(`${path} has only one of the lines ${BEGIN} and ${END}: add the other, or remove it`);
    }
  }
  return `# Results: plain fine-tuning vs AD-DROP\n\n${block}\n`;
}
