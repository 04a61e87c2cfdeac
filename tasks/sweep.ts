/**
 * `deno task sweep --output-dir DIR --p 0.1,0.3,0.5 --q 0.1,0.3,0.5 --seeds 1,2,3 [train flags]`: AD-DROP's
 * p x q grid (optionally `--attributions grad,attention`, `--layers-grid "0;all"`), several seeds per cell, all
 * runs in this process on one GPU device. Writes DIR/sweep.csv, DIR/sweep.json and DIR/sweep.svg (a heatmap
 * of the mean dev metric); each run's checkpoint and logs go to DIR/runs/.
 *
 * @module
 */
import { runCli } from "../src/cli/run_cli.ts";
import { parseSweepArgs } from "../src/cli/sweep_options.ts";
import type { RunEvent } from "../src/pipeline/run.ts";
import { sweep } from "../src/pipeline/sweep.ts";

const HELP = `usage: deno task sweep --output-dir DIR [--p LIST] [--q LIST] [--seeds LIST]
                        [--attributions grad,ig,attention,random] [--layers-grid "0;all"] [train flags]
  --p, --q        comma-separated values in [0, 1] (default: train's 0.3 and 0.2)
  --seeds         comma-separated seeds (default 42); each cell reports the mean and std over them
  --layers-grid   layer sets separated by ';', each 'all' or indices like 0,3
  every other flag (--model, --train, --validation, --task, --epochs, ...) is passed to each train run`;

await runCli(async () => {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(HELP);
    return;
  }
  const options = await parseSweepArgs(Deno.args);
  const r = await sweep(options, report);
  console.log(
    `${r.runs.length} runs, ${r.cells.length} cells; results in ${options.outputDir}/sweep.{csv,json,svg}`,
  );
  if (r.best) {
    const b = r.best;
    console.log(`best: p ${b.p} q ${b.q} ${b.method} layers ${b.layers}: ${r.metric} ${b.mean} +- ${b.std}`);
  }
});

function report(e: RunEvent): void {
  if (e.type === "info") console.error(e.message);
  else if (e.type === "eval") {
    const m = Object.entries(e.metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
    console.error(`  eval after epoch ${e.epoch}: ${m.join(", ")}`);
  }
}
