/**
 * `deno task predict --model DIR --input FILE --output FILE [--max-length N] [--batch-size N]`: one JSON line per
 * input row (JSONL/CSV/TSV with `text` and optional `text_pair`; CoNLL for token classification; for a Marian
 * translation model, a `source` column, translated greedily).
 *
 * @module
 */
import { Command } from "npm:commander@15.1.0";
import { intFlag, runCli } from "../src/cli/run_cli.ts";
import { predict } from "../src/pipeline/predict.ts";

const program = new Command("predict")
  .requiredOption("--model <dir>", "checkpoint directory")
  .requiredOption(
    "--input <file>",
    "JSONL, CSV or TSV with text (and text_pair); CoNLL for token classification",
  )
  .requiredOption("--output <file>", "JSONL predictions, one line per input row")
  .option("--max-length <n>", "truncate inputs to N tokens", "128")
  .option("--batch-size <n>", "examples per GPU batch", "32")
  .option("--text-column <name>", "column of the text", "text")
  .option("--text-pair-column <name>", "column of the second text", "text_pair")
  .option("--source-column <name>", "translation: the column to translate", "source")
  .option("--max-new-tokens <n>", "translation: longest translation in tokens (default: --max-length)")
  .option("--num-beams <n>", "translation: beam search with N beams (default: the config's num_beams)");

await runCli(async () => {
  program.parse(["deno", "predict", ...Deno.args]);
  const o = program.opts<Record<string, string>>();
  const n = await predict({
    model: o.model,
    input: o.input,
    output: o.output,
    maxLength: intFlag("--max-length", o.maxLength, 2),
    batchSize: intFlag("--batch-size", o.batchSize),
    textColumn: o.textColumn,
    textPairColumn: o.textPairColumn,
    sourceColumn: o.sourceColumn,
    maxNewTokens: o.maxNewTokens === undefined ? undefined : intFlag("--max-new-tokens", o.maxNewTokens),
    numBeams: o.numBeams === undefined ? undefined : intFlag("--num-beams", o.numBeams),
  });
  console.error(`wrote ${n} predictions to ${o.output}`);
});
