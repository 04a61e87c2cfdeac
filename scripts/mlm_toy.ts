// Diagnostic (issue 7): does MLM pretraining learn to use context? A 40-word cycle where each masked word is
// determined by its neighbours. Usage: deno run -A scripts/mlm_toy.ts STEPS LR (VOCAB_SIZE|words) DROPOUT
// Compare with scripts/mlm_toy.py (PyTorch, same shape): python3 scripts/mlm_toy.py STEPS bertinit tied bert8010
// Does MLM pretraining learn to use context? Corpus: lines of consecutive words from a fixed cycle of 40 words,
// so each masked word is determined by its neighbours; unigram accuracy is ~1/40.
import { countWords, trainWordPiece } from "../src/data/wordpiece.ts";
import { tokenizerConfig, tokenizerJson, vocabTxt } from "../src/data/tokenizer_files.ts";
import { pretrain } from "../src/pipeline/pretrain.ts";
const dir = Deno.env.get("OUT") ?? "/tmp/mlm_toy";
await Deno.remove(dir, { recursive: true }).catch(() => {});
await Deno.mkdir(`${dir}/vocab`, { recursive: true });
const words = Array.from(
  { length: 40 },
  (_, i) => "w" + String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + Math.floor(i / 26)),
);
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const lines = Array.from({ length: 2000 }, () => {
  const start = Math.floor(rnd() * 40);
  return Array.from({ length: 12 }, (_, i) => words[(start + i) % 40]).join(" ");
});
await Deno.writeTextFile(`${dir}/corpus.txt`, lines.join("\n") + "\n");
const counts = new Map<string, number>();
for (const l of lines) countWords(l, { lowercase: true }, counts);
const v = Deno.args[2] === "words"
  ? { tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...words] }
  : trainWordPiece(counts, { vocabSize: Number(Deno.args[2] ?? 60), minFrequency: 1 });
const opts = { lowercase: true, modelMaxLength: 32 };
await Deno.writeTextFile(`${dir}/vocab/vocab.txt`, vocabTxt(v.tokens));
await Deno.writeTextFile(`${dir}/vocab/tokenizer.json`, JSON.stringify(tokenizerJson(v.tokens, opts)));
await Deno.writeTextFile(
  `${dir}/vocab/tokenizer_config.json`,
  JSON.stringify(tokenizerConfig(v.tokens, opts)),
);
await pretrain(
  {
    corpus: `${dir}/corpus.txt`,
    vocab: `${dir}/vocab`,
    output: `${dir}/out`,
    hidden: 64,
    layers: 2,
    heads: 2,
    intermediate: 128,
    maxLength: 32,
    batchSize: 16,
    steps: Number(Deno.args[0] ?? 300),
    learningRate: Number(Deno.args[1] ?? 1e-3),
    warmupRatio: 0.06,
    seed: 1,
    saveEvery: 100000,
    logEvery: 25,
    maxPositions: 64,
    dropout: Number(Deno.args[3] ?? 0.1),
  },
  (e) =>
    e.type === "log" &&
    console.log(e.record.step, e.record.loss.toFixed(3), e.record.mlm_accuracy.toFixed(3)),
);
