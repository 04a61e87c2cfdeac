/**
 * `deno task results [flags]`: the experiment behind docs/results.md. Plain fine-tuning, the same architecture
 * from scratch, and AD-DROP (gradient / integrated gradients, first / all layers, with / without cross-tuning)
 * on the bundled tasks at several seeds, all in this process on one GPU device. Rewrites
 * `<output>/results.json`, the doc and `results.svg` next to it after every run; finished runs are skipped.
 *
 * @module
 */
import { parseResultsArgs } from "../src/cli/results_options.ts";
import { runCli } from "../src/cli/run_cli.ts";
import { runExperiments } from "../src/pipeline/experiment.ts";
import { CONFIGS, DEFAULT_TASKS } from "../src/pipeline/experiment_plan.ts";
import type { RunEvent } from "../src/pipeline/run.ts";

const HELP = `usage: deno task results [flags]
  --tasks LIST             tasks (default ${Object.keys(DEFAULT_TASKS).join(",")})
  --configs LIST           configurations (default all: ${CONFIGS.join(",")})
  --seeds LIST             seeds (default 1,2,3,4,5)
  --max-train-samples N    per-run budget; each budget flag takes N for every task or task=N,task=N
  --max-eval-samples N       (defaults per task: src/pipeline/experiment_plan.ts, DEFAULT_TASKS)
  --epochs N  --batch-size N  --max-length N  --learning-rate X
  --ig-steps N             integrated-gradients steps (default 20)
  --model DIR              pretrained model (default models/addrop-mini)
  --output DIR             results folder (default runs/results); runs in DIR/runs/<task>/<config>/seed<seed>/
  --doc FILE               the Markdown report (default docs/results.md); results.svg goes next to it
  --keep-checkpoints       keep each run's model.safetensors and last/ (default: deleted once scored)
  --dry-run                list the planned runs and their options, train nothing
  --only-missing           the default: runs with an all_results.json are skipped`;

await runCli(async () => {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(HELP);
    return;
  }
  const options = parseResultsArgs(Deno.args);
  const { results } = await runExperiments(options, report);
  if (results) console.log(`${results.runs.length} runs; ${options.doc ?? "docs/results.md"} updated`);
});

function report(e: RunEvent): void {
  if (e.type === "info") console.error(e.message);
  else if (e.type === "eval") {
    const m = Object.entries(e.metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
    console.error(`  eval after epoch ${e.epoch}: ${m.join(", ")}`);
  }
}
