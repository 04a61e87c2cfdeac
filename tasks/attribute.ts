/**
 * `deno task attribute --model DIR --input FILE --layer L --method grad|ig|attention --output FILE.json
 * [--p P] [--q Q] [--html FILE.html] [--max-length N] [--ig-steps M] [--seed S]`.
 *
 * @module
 */
import { Command, Option } from "npm:commander@15.1.0";
import { runCli } from "../src/cli/run_cli.ts";
import { attribute } from "../src/pipeline/attribute_run.ts";

const program = new Command("attribute")
  .requiredOption(
    "--model <dir>",
    "checkpoint directory with a classification, regression or token head, or a Marian translation model",
  )
  .requiredOption(
    "--input <file>",
    "JSONL, CSV or TSV with text (and text_pair); CoNLL for a token head; source (and target) for translation",
  )
  .requiredOption("--layer <n>", "encoder layer (0-based)")
  .addOption(new Option("--method <name>").choices(["grad", "ig", "attention"]).makeOptionMandatory())
  .requiredOption("--output <file>", "JSON output")
  .option("--p <x>", "outline the candidate region: the top p of each row's keys")
  .option("--q <x>", "drop probability inside the region, for the crossed positions", "0.2")
  .option("--seed <n>", "seed of the drop draw", "42")
  .option("--ig-steps <n>", "integrated-gradients steps", "20")
  .option("--html <file>", "also write an HTML page of heatmaps")
  .option("--max-length <n>", "truncate inputs to N tokens", "128")
  .option("--source-column <name>", "translation: the source column", "source")
  .option("--target-column <name>", "translation: the target column, read when a row has it", "target");

await runCli(async () => {
  program.parse(["deno", "attribute", ...Deno.args]);
  const o = program.opts<Record<string, string>>();
  const num = (flag: string, v: string | undefined, lo: number, hi: number, int = false) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi || (int && !Number.isInteger(n))) {
      throw new RangeError(
        `${flag} must be ${int ? "an integer" : "a number"} in [${lo}, ${hi}], got '${v}'`,
      );
    }
    return n;
  };
  const examples = await attribute({
    model: o.model,
    input: o.input,
    layer: num("--layer", o.layer, 0, 1e6, true)!,
    method: o.method as "grad" | "ig" | "attention",
    output: o.output,
    p: num("--p", o.p, 0, 1),
    q: num("--q", o.q, 0, 1),
    seed: num("--seed", o.seed, 0, 2 ** 32 - 1, true),
    igSteps: num("--ig-steps", o.igSteps, 1, 1000, true),
    html: o.html,
    maxLength: num("--max-length", o.maxLength, 2, 4096, true),
    sourceColumn: o.sourceColumn,
    targetColumn: o.targetColumn,
  });
  console.error(`wrote ${examples.length} examples to ${o.output}${o.html ? ` and ${o.html}` : ""}`);
});
