/**
 * `deno task train [options]`: fine-tunes a Hugging Face checkpoint with or without AD-DROP. With no arguments
 * it runs the built-in default (see src/pipeline/default_run.ts). Every flag can also come from `--config FILE`.
 *
 * @module
 */
import { Command, Option } from "npm:commander@15.1.0";
import { SingleBar } from "npm:cli-progress@3.12.0";
import { loadTrainOptions, OptionsError, TASKS, type TrainOptions } from "../src/cli/train_options.ts";
import { defaultRun } from "../src/pipeline/default_run.ts";
import { type RunEvent, train } from "../src/pipeline/run.ts";
import { runCli } from "../src/cli/run_cli.ts";

const program = new Command("train")
  .description(
    "fine-tune a BERT / RoBERTa / ELECTRA checkpoint, or a Marian / OPUS-MT translation model, with AD-DROP by default",
  )
  .option("--config <file>", "read options from a JSON file (flags on the command line win)")
  .option("--model <dir>", "checkpoint directory (config.json, model.safetensors, tokenizer files)")
  .option("--train <file>", "training data: JSONL, CSV, TSV or CoNLL")
  .option("--validation <file>", "validation data, evaluated after each epoch")
  .addOption(new Option("--task <name>", "a GLUE task or conll2003 read from --data-dir").choices([...TASKS]))
  .option("--data-dir <dir>", "folder of the task's files")
  .option("--text-column <name>").option("--text-pair-column <name>").option("--label-column <name>")
  .option("--source-column <name>", "translation: the source column of the pair files (default source)")
  .option("--target-column <name>", "translation: the target column of the pair files (default target)")
  .option(
    "--num-beams <n>",
    "translation: beams of the validation translations (default: config's num_beams)",
  )
  .option(
    "--label-map <map>",
    "rename predicted labels before scoring, e.g. neutral=non-entailment,contradiction=non-entailment",
  )
  .option("--skip-bad-rows", "skip malformed rows (counted) instead of failing")
  .option("--max-train-samples <n>", "use only the first N training examples (file order, before shuffling)")
  .option("--max-eval-samples <n>", "evaluate on only the first N examples of each validation split")
  .option("--output-dir <dir>", "where the checkpoint, logs and results go (default runs/<time>)")
  .option("--seed <n>").option("--epochs <n>").option(
    "--max-steps <n>",
    "optimizer steps; wins over --epochs",
  )
  .option("--batch-size <n>").option("--max-length <n>").option("--learning-rate <x>")
  .addOption(new Option("--lr-schedule <kind>").choices(["linear", "constant"]))
  .option("--warmup-ratio <x>").option("--max-grad-norm <x>", "0 turns clipping off")
  .option("--gradient-accumulation-steps <n>").option("--adam-epsilon <x>").option("--weight-decay <x>")
  .option("--hidden-dropout <p>").option("--attention-dropout <p>")
  .option("--shuffle").option("--no-shuffle")
  .option("--metric <name>", "metric for the best epoch and early stopping").option("--patience <n>")
  .option("--resume", "continue an interrupted run in --output-dir from its last completed epoch")
  .option("--ad-drop", "AD-DROP on (default)").option("--no-ad-drop", "plain fine-tuning")
  .addOption(new Option("--attribution <method>").choices(["grad", "ig", "attention", "random"]))
  .option("--p <x>", "candidate share of the highest-attribution positions (default 0.3)")
  .option("--q <x>", "drop probability inside the candidate region (default 0.2)")
  .option("--layers <list>", "`all` or comma-separated layer indices (default 0)")
  .option("--cross-tuning").option("--no-cross-tuning")
  .option("--ig-steps <n>")
  .addOption(new Option("--selection <kind>").choices(["high", "low"]));

let bar: SingleBar | null = null;

await runCli(async () => {
  program.parse(["deno", "train", ...Deno.args]);
  const raw = program.opts<Record<string, unknown>>();
  const { config, ...flags } = raw;
  if (Deno.args.length === 0) {
    await defaultRun(report);
    return;
  }
  const options: TrainOptions = await loadTrainOptions(flags, config as string | undefined);
  const result = await train(options, report);
  console.log(
    result.bestMetric === null
      ? `no validation data: the output holds the last epoch (${result.bestEpoch})`
      : `best epoch ${result.bestEpoch}: ${result.metricName} = ${result.bestMetric}`,
  );
  console.log(`output: ${result.outputDir}`);
});

function report(e: RunEvent): void {
  const tty = Deno.stderr.isTerminal();
  if (e.type === "info") {
    bar?.stop();
    bar = null;
    console.error(e.message);
  } else if (e.type === "step") {
    const r = e.record;
    const text = `step ${r.step}/${e.totalSteps} epoch ${r.epoch.toFixed(2)} loss ${r.loss.toFixed(4)} ` +
      `lr ${r.learning_rate.toExponential(2)} |g| ${r.grad_norm.toFixed(3)} ${
        r.tokens_per_second.toFixed(0)
      } tok/s` +
      (r.ad_drop ? " [AD-DROP]" : "");
    if (tty) {
      if (!bar) {
        bar = new SingleBar({
          format: "{bar} {percentage}% | ETA {eta_formatted} | {text}",
          stream: process.stderr,
        });
        bar.start(e.totalSteps, r.step - 1, { text });
      }
      bar.update(r.step, { text });
    } else if (r.step === 1 || r.step % 10 === 0 || r.step === e.totalSteps) console.error(text);
  } else {
    bar?.stop();
    bar = null;
    const shown = Object.entries(e.metrics).filter(([k]) => k !== "epoch");
    if (!shown.length) return; // no validation data: nothing was evaluated
    const m = shown.map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(", ");
    console.error(`eval after epoch ${e.epoch}: ${m}`);
  }
}

export { OptionsError };
