/**
 * `sweep()`: AD-DROP's hyper-parameter grid (p x q, optionally x attribution method x layer sets) with several
 * seeds on one task, every run a full `train()` in this process on ONE GPU device (the paper's reference code
 * starts 81 separate processes). Writes to the output directory, after every run (an interrupted sweep keeps
 * what it finished, and a rerun skips runs whose `all_results.json` exists):
 *   sweep.csv   one row per run: p, q, method, layers, seed, metric, best, epoch
 *   sweep.json  the runs and one summary per cell (mean and sample standard deviation over seeds)
 *   sweep.svg   a heatmap of the mean dev metric over (p, q), one panel per (method, layers)
 * Each run's own checkpoint and logs go to `runs/<method>_L<layers>_p<p>_q<q>_seed<seed>/`.
 *
 * @module
 */
import { parseTrainOptions, type TrainOptionsInput } from "../cli/train_options.ts";
import { type Gpu, requestGpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { AttributionMethod } from "./attribute.ts";
import { type RunEvent, train } from "./run.ts";
import { sweepSvg } from "./sweep_svg.ts";

/** The grid and the options every run shares. */
export interface SweepOptions {
  /** `train` options shared by every run (model, data, epochs, ...); p, q, attribution, layers, seed are set per run. */
  base: TrainOptionsInput;
  p: number[];
  q: number[];
  seeds: number[];
  /** Attribution methods (default: the base's, else grad). */
  attributions?: AttributionMethod[];
  /** Layer sets (default: the base's, else [0]). */
  layersGrid?: (number[] | "all")[];
  outputDir: string;
  /** A device to reuse (left open); otherwise one is requested and destroyed at the end. */
  gpu?: Gpu;
}

/** One finished run. */
export interface SweepRun {
  p: number;
  q: number;
  method: AttributionMethod;
  layers: string;
  seed: number;
  metric: string;
  best: number | null;
  epoch: number | null;
  outputDir: string;
}

/** The seeds of one (p, q, method, layers) cell summarised. */
export interface SweepCell {
  p: number;
  q: number;
  method: AttributionMethod;
  layers: string;
  n: number;
  mean: number | null;
  /** Sample standard deviation over seeds (n - 1 in the denominator; 0 for one seed). */
  std: number | null;
}

/** Everything a sweep produced. */
export interface SweepResult {
  metric: string;
  higherIsBetter: boolean;
  runs: SweepRun[];
  cells: SweepCell[];
  /** The cell with the best mean (null when no run produced a metric). */
  best: SweepCell | null;
}

/** `all` or the comma-joined indices. */
export function layersLabel(layers: number[] | "all"): string {
  return layers === "all" ? "all" : layers.join(",");
}

/**
 * Runs the grid, writes sweep.csv, sweep.json and sweep.svg into `o.outputDir` and returns the results.
 *
 * @example
 * ```ts ignore
 * import { sweep } from "./mod.ts";
 * const r = await sweep({
 *   base: { model: "my-bert", train: "train.jsonl", validation: "dev.jsonl", epochs: 3 },
 *   p: [0.1, 0.3, 0.5], q: [0.1, 0.3, 0.5], seeds: [1, 2, 3], outputDir: "runs/sweep",
 * });
 * console.log(r.best); // { p, q, method, layers, n, mean, std }
 * ```
 */
export async function sweep(
  o: SweepOptions,
  onEvent: (e: RunEvent) => void = () => {},
): Promise<SweepResult> {
  const info = (message: string) => onEvent({ type: "info", message });
  const base = parseTrainOptions({ ...o.base }, "sweep options");
  if (!base.adDrop) {
    throw new RangeError("sweep: --no-ad-drop leaves p and q unused; a sweep needs AD-DROP on");
  }
  for (const [name, xs] of [["p", o.p], ["q", o.q], ["seeds", o.seeds]] as const) {
    if (!xs.length) throw new RangeError(`sweep: --${name} is empty; give at least one value`);
  }
  const methods = o.attributions?.length ? o.attributions : [base.attribution];
  const layerSets = o.layersGrid?.length ? o.layersGrid : [base.layers];
  const grid: Omit<SweepRun, "metric" | "best" | "epoch" | "outputDir">[] = [];
  for (const method of methods) {
    for (const layers of layerSets) {
      for (const p of o.p) {
        for (const q of o.q) {
          for (const seed of o.seeds) grid.push({ p, q, method, layers: layersLabel(layers), seed });
        }
      }
    }
  }
  // Validate every run's options before the first one starts.
  const options = grid.map((g) => {
    const dir = `${o.outputDir}/runs/${g.method}_L${
      g.layers.replaceAll(",", "-")
    }_p${g.p}_q${g.q}_seed${g.seed}`;
    return parseTrainOptions({
      ...o.base,
      p: g.p,
      q: g.q,
      attribution: g.method,
      layers: g.layers,
      seed: g.seed,
      outputDir: dir,
      resume: false,
    }, `sweep run p=${g.p} q=${g.q} ${g.method} layers ${g.layers} seed ${g.seed}`);
  });
  await Deno.mkdir(o.outputDir, { recursive: true });
  const gpu = o.gpu ?? await requestGpu();
  const runs: SweepRun[] = [];
  let result: SweepResult = summarise(runs);
  try {
    for (const [i, g] of grid.entries()) {
      const opts = options[i];
      const tag = `run ${
        i + 1
      }/${grid.length}: p ${g.p} q ${g.q} ${g.method} layers ${g.layers} seed ${g.seed}`;
      const done = await finishedRun(opts.outputDir!);
      if (done) {
        info(`${tag}: already done (${done.metric} ${done.best}), skipped`);
        runs.push({ ...g, ...done, outputDir: opts.outputDir! });
      } else {
        info(tag);
        const r = await train(opts, onEvent, { gpu });
        runs.push({
          ...g,
          metric: r.metricName,
          best: r.bestMetric,
          epoch: r.bestEpoch,
          outputDir: r.outputDir,
        });
      }
      result = summarise(runs);
      await writeResults(o.outputDir, result);
    }
  } finally {
    if (!o.gpu) gpu.destroy();
  }
  if (result.best) {
    const b = result.best;
    info(
      `best cell: p ${b.p} q ${b.q} ${b.method} layers ${b.layers}: ${result.metric} ${b.mean} +- ${b.std}`,
    );
  }
  return result;
}

/** The metric of a run whose `all_results.json` exists, or null. */
async function finishedRun(dir: string): Promise<Pick<SweepRun, "metric" | "best" | "epoch"> | null> {
  const text = await Deno.readTextFile(`${dir}/all_results.json`).catch(() => null);
  if (text === null) return null;
  const r = JSON.parse(text);
  const metric = String(r.selection_metric);
  return { metric, best: r[`eval_${metric}`] ?? null, epoch: r.best_epoch ?? null };
}

/** Groups runs into cells (in the order first seen) and finds the best. */
export function summarise(runs: readonly SweepRun[]): SweepResult {
  const metric = runs[0]?.metric ?? "";
  const higher = !/loss|mse/.test(metric);
  const groups = new Map<string, SweepRun[]>();
  for (const r of runs) {
    const key = `${r.method}|${r.layers}|${r.p}|${r.q}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const cells: SweepCell[] = [...groups.values()].map((rs) => {
    const xs = rs.map((r) => r.best).filter((x): x is number => x !== null && Number.isFinite(x));
    const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    const std = mean === null
      ? null
      : xs.length > 1
      ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1))
      : 0;
    const { p, q, method, layers } = rs[0];
    return { p, q, method, layers, n: xs.length, mean, std };
  });
  let best: SweepCell | null = null;
  for (const c of cells) {
    if (c.mean === null) continue;
    if (!best || (higher ? c.mean > best.mean! : c.mean < best.mean!)) best = c;
  }
  return { metric, higherIsBetter: higher, runs: [...runs], cells, best };
}

/** sweep.csv: a header and one row per run. */
export function sweepCsv(runs: readonly SweepRun[]): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const rows = runs.map((r) =>
    [r.p, r.q, r.method, r.layers, r.seed, r.metric, r.best ?? "", r.epoch ?? ""].map((v) => quote(String(v)))
      .join(",")
  );
  return ["p,q,method,layers,seed,metric,best,epoch", ...rows].join("\n") + "\n";
}

async function writeResults(dir: string, r: SweepResult): Promise<void> {
  await writeFileAtomic(`${dir}/sweep.csv`, sweepCsv(r.runs));
  await writeFileAtomic(`${dir}/sweep.json`, JSON.stringify(r, null, 2) + "\n");
  await writeFileAtomic(`${dir}/sweep.svg`, sweepSvg(r));
}
