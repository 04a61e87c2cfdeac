/**
 * `deno task pretrain --corpus FILE --vocab DIR --output DIR [--hidden N] [--layers N] [--heads N]
 * [--intermediate N] [--max-length N] [--batch-size N] [--steps N] [--learning-rate X] [--warmup-ratio X]
 * [--seed N] [--save-every N] [--log-every N] [--stop-at N] [--init-from DIR] [--resume]`: masked-language-model pretraining of a BERT from
 * scratch (see src/pipeline/pretrain.ts). Prints one line per log record.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { OptionsError } from "../src/cli/train_options.ts";
import { runCli } from "../src/cli/run_cli.ts";
import { pretrain, type PretrainOptions } from "../src/pipeline/pretrain.ts";

const INTS = {
  hidden: 256,
  layers: 4,
  heads: 4,
  intermediate: 1024,
  "max-length": 128,
  "batch-size": 32,
  steps: 1000,
  seed: 42,
  "save-every": 200,
  "log-every": 10,
} as const;
const FLOATS = { "learning-rate": 5e-4, "warmup-ratio": 0.06 } as const;

function number(flag: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && (!Number.isInteger(n) || n < 1)) || n < 0) {
    const expected = integer ? "an integer >= 1" : "a number >= 0";
    throw new OptionsError("command line", [`--${flag} ${JSON.stringify(value)}: expected ${expected}`]);
  }
  return n;
}

await runCli(async () => {
  const names = [
    ...Object.keys(INTS),
    ...Object.keys(FLOATS),
    "corpus",
    "vocab",
    "output",
    "stop-at",
    "init-from",
  ];
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      ...Object.fromEntries(names.map((n) => [n, { type: "string" as const }])),
      resume: { type: "boolean", default: false },
    },
  });
  const v = values as unknown as Record<string, string | undefined>;
  for (const f of ["corpus", "vocab", "output"]) {
    if (!v[f]) throw new OptionsError("command line", [`--${f} is required`]);
  }
  const int = (f: keyof typeof INTS) => number(f, v[f], INTS[f], true);
  const flt = (f: keyof typeof FLOATS) => number(f, v[f], FLOATS[f], false);
  const o: PretrainOptions = {
    corpus: v.corpus!,
    vocab: v.vocab!,
    output: v.output!,
    hidden: int("hidden"),
    layers: int("layers"),
    heads: int("heads"),
    intermediate: int("intermediate"),
    maxLength: int("max-length"),
    batchSize: int("batch-size"),
    steps: int("steps"),
    learningRate: flt("learning-rate"),
    warmupRatio: flt("warmup-ratio"),
    seed: int("seed"),
    saveEvery: int("save-every"),
    logEvery: int("log-every"),
    resume: values.resume as boolean,
    stopAt: v["stop-at"] === undefined ? undefined : number("stop-at", v["stop-at"], 0, true),
    initFrom: v["init-from"],
  };
  const result = await pretrain(o, (e) => {
    if (e.type === "info") console.log(e.message);
    else if (e.type === "save") console.log(`saved step ${e.step} to ${e.dir}`);
    else {
      const r = e.record;
      console.log(
        `step ${r.step}/${e.totalSteps} loss ${r.loss.toFixed(4)} mlm_acc ${r.mlm_accuracy.toFixed(4)} ` +
          `lr ${r.learning_rate.toExponential(2)} grad_norm ${r.grad_norm.toFixed(3)} ` +
          `tok/s ${r.tokens_per_second.toFixed(0)} elapsed ${r.elapsed_s.toFixed(0)} s`,
      );
    }
  });
  console.log(`done: ${result.steps} steps in ${result.output}`);
});
