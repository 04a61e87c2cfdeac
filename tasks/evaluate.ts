/**
 * `deno task evaluate --model DIR (--validation FILE | --task NAME --data-dir DIR) [--label-map MAP]
 * [--output FILE]`: prints the metrics as JSON and writes them to `--output` (default DIR/eval_results_cli.json).
 *
 * @module
 */
import { Command, Option } from "npm:commander@15.1.0";
import { intFlag, runCli } from "../src/cli/run_cli.ts";
import { TASKS } from "../src/cli/train_options.ts";
import type { GlueTask } from "../src/data/glue.ts";
import { evaluate } from "../src/pipeline/evaluate_run.ts";

const program = new Command("evaluate")
  .requiredOption("--model <dir>", "checkpoint directory")
  .option("--validation <file>", "JSONL, CSV, TSV or CoNLL with labels")
  .addOption(new Option("--task <name>").choices([...TASKS]))
  .option("--data-dir <dir>")
  .option("--label-map <map>", "rename predicted labels before scoring, e.g. neutral=non-entailment")
  .option("--max-length <n>", "truncate inputs to N tokens", "128")
  .option("--batch-size <n>", "examples per GPU batch", "32")
  .option("--text-column <name>", "", "text").option("--text-pair-column <name>", "", "text_pair")
  .option("--label-column <name>", "", "label")
  .option("--source-column <name>", "translation: source column of the pairs", "source")
  .option("--target-column <name>", "translation: target column of the pairs", "target")
  .option("--max-new-tokens <n>", "translation: longest translation in tokens (default: --max-length)")
  .option("--num-beams <n>", "translation: beam search with N beams (default: the config's num_beams)")
  .option("--skip-bad-rows")
  .option("--output <file>", "where to write the metrics JSON");

await runCli(async () => {
  program.parse(["deno", "evaluate", ...Deno.args]);
  const o = program.opts<Record<string, string | boolean | undefined>>();
  const metrics = await evaluate({
    model: o.model as string,
    validation: o.validation as string | undefined,
    task: o.task as GlueTask | "conll2003" | undefined,
    dataDir: o.dataDir as string | undefined,
    labelMap: o.labelMap as string | undefined,
    maxLength: intFlag("--max-length", o.maxLength as string, 2),
    batchSize: intFlag("--batch-size", o.batchSize as string),
    textColumn: o.textColumn as string,
    textPairColumn: o.textPairColumn as string,
    labelColumn: o.labelColumn as string,
    sourceColumn: o.sourceColumn as string,
    targetColumn: o.targetColumn as string,
    maxNewTokens: o.maxNewTokens === undefined
      ? undefined
      : intFlag("--max-new-tokens", o.maxNewTokens as string),
    numBeams: o.numBeams === undefined ? undefined : intFlag("--num-beams", o.numBeams as string),
    skipBadRows: !!o.skipBadRows,
    output: (o.output as string | undefined) ?? `${o.model}/eval_results_cli.json`,
  });
  console.log(JSON.stringify(metrics, null, 2));
});
