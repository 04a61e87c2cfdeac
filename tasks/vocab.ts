/**
 * `deno run -A tasks/vocab.ts --input FILE... --vocab-size N --output DIR [--min-frequency K] [--lowercase]
 * [--model-max-length L]`: trains a WordPiece vocabulary (see src/data/wordpiece.ts) on the text files and
 * writes `vocab.txt`, `tokenizer.json` and `tokenizer_config.json` into DIR.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { countWords, trainWordPiece } from "../src/data/wordpiece.ts";
import { tokenizerConfig, tokenizerJson, vocabTxt } from "../src/data/tokenizer_files.ts";

function positiveInt(flag: string, value: string | undefined, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`--${flag} ${JSON.stringify(value)}: expected an integer >= 1`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      input: { type: "string", multiple: true },
      "vocab-size": { type: "string" },
      output: { type: "string" },
      "min-frequency": { type: "string" },
      lowercase: { type: "boolean", default: false },
      "model-max-length": { type: "string" },
    },
    allowPositionals: true,
  });
  // `--input a b c`: parseArgs keeps only `a` as the flag value; the rest arrive as positionals.
  const inputs = [...(values.input ?? []), ...positionals];
  if (inputs.length === 0) throw new Error("--input: at least one text file is required");
  if (values.output === undefined) throw new Error("--output: a directory is required");
  const vocabSize = positiveInt("vocab-size", values["vocab-size"]);
  const minFrequency = positiveInt("min-frequency", values["min-frequency"], 2);
  const lowercase = values.lowercase ?? false;

  const t0 = performance.now();
  const counts = new Map<string, number>();
  let bytes = 0;
  for (const file of inputs) {
    const text = await Deno.readTextFile(file);
    bytes += text.length;
    for (const line of text.split("\n")) countWords(line, { lowercase }, counts);
  }
  const t1 = performance.now();
  const vocab = trainWordPiece(counts, { vocabSize, minFrequency });
  const t2 = performance.now();

  await Deno.mkdir(values.output, { recursive: true });
  const options = {
    lowercase,
    modelMaxLength: positiveInt("model-max-length", values["model-max-length"], 512),
  };
  await Deno.writeTextFile(join(values.output, "vocab.txt"), vocabTxt(vocab.tokens));
  await Deno.writeTextFile(
    join(values.output, "tokenizer.json"),
    JSON.stringify(tokenizerJson(vocab.tokens, options), null, 2) + "\n",
  );
  await Deno.writeTextFile(
    join(values.output, "tokenizer_config.json"),
    JSON.stringify(tokenizerConfig(vocab.tokens, options), null, 2) + "\n",
  );
  console.log(
    `${inputs.length} file(s), ${bytes} chars, ${counts.size} distinct words -> ${vocab.tokens.length} tokens ` +
      `(alphabet ${vocab.alphabet}, ${vocab.merges} merges); counting ${((t1 - t0) / 1000).toFixed(2)} s, ` +
      `merging ${((t2 - t1) / 1000).toFixed(2)} s; wrote ${values.output}`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`vocab: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
}
