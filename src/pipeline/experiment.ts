/**
 * `runExperiments()`: the evidence behind docs/results.md. Plain fine-tuning, the same architecture trained
 * from scratch, and eight AD-DROP configurations on each task, at several seeds; every run a full `train()` in
 * this process on ONE GPU device. After every run it rewrites (so a partial experiment has a table):
 *   <output>/results.json   every run and the mean and sample std per (column, configuration)
 *   <doc>                   the generated report between `<!-- results:begin -->` and `<!-- results:end -->`
 *   <doc's folder>/results.svg
 * Runs whose `all_results.json` exists are skipped, so an interrupted experiment continues where it stopped.
 *
 * @module
 */
import { requestGpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { evaluate } from "./evaluate_run.ts";
import { scratchCopy, writeHashOrdered } from "./experiment_data.ts";
import {
  BUDGET_KEYS,
  experimentCommand,
  type ExperimentOptions,
  type PlannedRun,
  planRuns,
  type ResolvedOptions,
  resolveOptions,
} from "./experiment_plan.ts";
import {
  columnsOf,
  type ExperimentResults,
  type ExperimentRun,
  mergeDoc,
  resultsMarkdown,
  summariseRuns,
} from "./experiment_report.ts";
import { experimentSvg } from "./experiment_svg.ts";
import { type RunEvent, train } from "./run.ts";
import { exists } from "../io/exists.ts";

/** What {@linkcode runExperiments} did. */
export interface ExperimentOutcome {
  /** Every planned run, in order. */
  plan: PlannedRun[];
  /** results.json's content (null for a dry run). */
  results: ExperimentResults | null;
  /** Runs trained now, and runs found finished and skipped. */
  trained: number;
  skipped: number;
}

/** experiment.json in a run's folder: what the runner adds to train's all_results.json. */
interface RunRecord {
  wallSeconds: number;
  adapter: string;
  tests: Record<string, Record<string, number>>;
}

const readJson = async <T>(path: string): Promise<T | null> =>
  await Deno.readTextFile(path).then((t) => JSON.parse(t) as T, () => null);

/** The options of a planned run that the dry run lists. */
function describe(p: PlannedRun): string {
  const o = p.options;
  const keys = [
    ...BUDGET_KEYS,
    "adDrop",
    ...(o.adDrop ? ["attribution", "layers", "crossTuning", "p", "q", "selection"] : []),
    ...(o.adDrop && o.attribution === "ig" ? ["igSteps"] : []),
  ];
  return keys.map((k) => `${k} ${JSON.stringify((o as Record<string, unknown>)[k])}`).join(", ");
}

/**
 * Runs (or, with `dryRun`, lists) the experiment and writes results.json, the doc and its SVG after every run.
 *
 * @example
 * ```ts ignore
 * import { runExperiments } from "./mod.ts";
 * const { results } = await runExperiments({ tasks: ["spam"], configs: ["plain", "grad_L0_ct"], seeds: [1, 2] });
 * console.log(results?.cells.map((c) => `${c.column} ${c.config}: ${c.mean} ± ${c.std}`));
 * ```
 */
export async function runExperiments(
  o: ExperimentOptions = {},
  onEvent: (e: RunEvent) => void = () => {},
): Promise<ExperimentOutcome> {
  const info = (message: string) => onEvent({ type: "info", message });
  const r = resolveOptions(o);
  const plan = planRuns(r);
  const done = await Promise.all(plan.map((p) => exists(`${p.dir}/all_results.json`)));
  const todo = done.filter((d) => !d).length;
  if (o.dryRun) {
    plan.forEach((p, i) =>
      info(
        `${i + 1}/${plan.length} ${p.task} ${p.config} seed ${p.seed}${done[i] ? " (finished)" : ""}: ` +
          `${p.config === "scratch" ? "scratch copy of " : ""}${r.model}, ${describe(p)} -> ${p.dir}`,
      )
    );
    info(`${plan.length} runs planned, ${plan.length - todo} already finished, ${todo} to train`);
    return { plan, results: null, trained: 0, skipped: 0 };
  }
  info(
    `${plan.length} runs planned; ${plan.length - todo} already finished (skipped: finished runs are ` +
      `never redone; delete a run's folder to redo it), ${todo} to train`,
  );
  await Deno.mkdir(r.output, { recursive: true });
  const files = await dataFiles(r);
  const gpu = o.gpu ?? await requestGpu();
  const adapter = `${gpu.description.name} (${gpu.description.kind})`;
  const runs: ExperimentRun[] = [];
  let results: ExperimentResults = assemble(r, runs, plan.length);
  let trained = 0;
  try {
    for (const [i, p] of plan.entries()) {
      const tag = `run ${i + 1}/${plan.length}: ${p.task} ${p.config} seed ${p.seed}`;
      const t0 = performance.now();
      let record = await readJson<RunRecord>(`${p.dir}/experiment.json`);
      const before = await readJson<Record<string, unknown>>(`${p.dir}/all_results.json`);
      const fresh = before === null;
      if (!fresh) info(`${tag}: finished before, skipped`);
      else {
        info(tag);
        const model = p.config === "scratch" ? await scratchCopy(r.model, scratchDir(r, p), p.seed) : r.model;
        await Deno.remove(p.dir, { recursive: true }).catch(() => {}); // a crashed run's leftovers
        await train({ ...p.options, ...files[p.task], model }, onEvent, { gpu });
        trained++;
        record = null;
      }
      const all = before ?? (await readJson<Record<string, unknown>>(`${p.dir}/all_results.json`))!;
      const tests = r.taskTable[p.task].tests ?? [];
      if (!record || tests.some((t) => !(t.name in record!.tests))) {
        const scores: Record<string, Record<string, number>> = { ...record?.tests };
        for (const t of tests) {
          if (t.name in scores) continue;
          scores[t.name] = await evaluate({
            model: p.dir,
            validation: t.file,
            maxLength: p.options.maxLength,
            batchSize: p.options.batchSize,
            gpu,
          });
        }
        const wall = record?.wallSeconds ??
          (fresh ? (performance.now() - t0) / 1000 : Number(all.train_runtime ?? 0));
        record = { wallSeconds: wall, adapter: record?.adapter ?? adapter, tests: scores };
        await writeFileAtomic(`${p.dir}/experiment.json`, JSON.stringify(record, null, 2) + "\n");
      }
      if (!r.keepCheckpoints) {
        await Deno.remove(`${p.dir}/model.safetensors`).catch(() => {});
        await Deno.remove(`${p.dir}/last`, { recursive: true }).catch(() => {});
        await Deno.remove(scratchDir(r, p), { recursive: true }).catch(() => {});
      }
      const metric = String(all.selection_metric);
      const value = all[`eval_${metric}`];
      runs.push({
        task: p.task,
        config: p.config,
        seed: p.seed,
        metric,
        value: typeof value === "number" ? value : null,
        bestEpoch: typeof all.best_epoch === "number" ? all.best_epoch : null,
        tests: record.tests,
        wallSeconds: record.wallSeconds,
        adapter: record.adapter,
        outputDir: p.dir,
      });
      results = assemble(r, runs, plan.length);
      await writeOutputs(r, results);
    }
  } finally {
    if (!o.gpu) gpu.destroy();
  }
  info(`${trained} runs trained, ${plan.length - trained} skipped; report: ${r.doc}`);
  return { plan, results, trained, skipped: plan.length - trained };
}

/** Where the scratch baseline of a run's task and seed is written. */
const scratchDir = (r: ResolvedOptions, p: PlannedRun) =>
  `${r.output}/scratch-models/${p.task}-seed${p.seed}`;

/** Each task's training and validation files: hash-ordered copies under `<output>/data/` where asked for. */
async function dataFiles(r: ResolvedOptions): Promise<Record<string, { train: string; validation: string }>> {
  const out: Record<string, { train: string; validation: string }> = {};
  for (const name of r.tasks) {
    const t = r.taskTable[name];
    if (!t.hashOrder) {
      out[name] = { train: t.train, validation: t.validation };
      continue;
    }
    const dir = `${r.output}/data/${name}`;
    await Deno.mkdir(dir, { recursive: true });
    const copy = async (src: string) => {
      const dst = `${dir}/${src.split("/").at(-1)}`;
      await writeHashOrdered(src, dst);
      return dst;
    };
    out[name] = { train: await copy(t.train), validation: await copy(t.validation) };
  }
  return out;
}

/** results.json from the runs so far. */
function assemble(r: ResolvedOptions, runs: ExperimentRun[], planned: number): ExperimentResults {
  const columns = columnsOf(r.tasks, r.taskTable);
  return {
    generated: new Date().toISOString(),
    command: experimentCommand(r),
    skip: r.skip,
    model: r.model,
    seeds: r.seeds,
    configs: r.configs,
    tasks: r.tasks.map((name) => {
      const t = r.taskTable[name];
      return {
        name,
        train: t.train,
        validation: t.validation,
        metric: t.metric,
        description: t.description,
        hashOrder: t.hashOrder ?? false,
        tests: t.tests ?? [],
        budget: r.budgets[name],
      };
    }),
    columns,
    adapters: [...new Set(runs.map((x) => x.adapter))],
    totalWallSeconds: runs.reduce((a, x) => a + x.wallSeconds, 0),
    planned,
    runs: [...runs],
    cells: summariseRuns(runs, columns, r.configs),
  };
}

async function writeOutputs(r: ResolvedOptions, results: ExperimentResults): Promise<void> {
  await writeFileAtomic(`${r.output}/results.json`, JSON.stringify(results, null, 2) + "\n");
  const slash = r.doc.lastIndexOf("/");
  const folder = slash >= 0 ? r.doc.slice(0, slash) : ".";
  await Deno.mkdir(folder, { recursive: true });
  const existing = await Deno.readTextFile(r.doc).catch(() => null);
  await writeFileAtomic(r.doc, mergeDoc(existing, resultsMarkdown(results, "results.svg"), r.doc));
  await writeFileAtomic(`${folder}/results.svg`, experimentSvg(results));
}
