/**
 * Golden attribution tests: `attribute()` (grad, ig with m = 20, attention) on the first and last layer of the
 * `bert_seq_cls`, `bert_regression` and `electra_tok_cls` checkpoints against the float64 PyTorch scores of
 * scripts/make_training_fixtures.py (tests/fixtures/attribution): within 1e-3 of the largest |score| + 1e-3
 * relative. Classification: F = the clean pass's pseudo-label logit (fixed along the IG path; the last
 * `bert_seq_cls` example's argmax leaves it at k = 1). Regression: F = -MSE with the gold label. Token
 * classification (a CoNLL input): F = -CE against the clean pass's argmax labels at each word's first sub-word,
 * whose labels are checked per token (null elsewhere).
 */
import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { attribute } from "../../src/pipeline/attribute_run.ts";
import { evaluate } from "../../src/pipeline/evaluate_run.ts";
import { predict } from "../../src/pipeline/predict.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";

const FIXTURES = ["bert_seq_cls", "bert_regression", "electra_tok_cls"];
const INPUTS: Record<string, string> = { electra_tok_cls: "electra_tok_cls.conll" };
const METHODS = ["grad", "ig", "attention"] as const;
const LAYERS = [0, 1]; // first and last of the two-layer checkpoints

for (const name of FIXTURES) {
  for (const method of METHODS) {
    gpuTest(`attribute() matches PyTorch: ${name} ${method}`, async (gpu) => {
      const model = new URL(`../fixtures/${name}`, import.meta.url).pathname;
      const dir = new URL("../fixtures/attribution", import.meta.url).pathname;
      const expected = await openSafetensors(`${dir}/${name}.safetensors`);
      const output = await Deno.makeTempFile({ suffix: ".json" });
      let worst = 0;
      try {
        for (const layer of LAYERS) {
          const input = `${dir}/${INPUTS[name] ?? `${name}.jsonl`}`;
          const got = await attribute({ model, input, layer, method, output, gpu });
          const written = JSON.parse(await Deno.readTextFile(output));
          assertEquals(written.examples.length, got.length);
          for (const [i, ex] of got.entries()) {
            const [NH, T] = expected.info(`${i}.${method}.${layer}`).shape;
            assertEquals(ex.tokens.length, expected.info(`${i}.input_ids`).shape[0], `${name} #${i} tokens`);
            const pseudo = Array.from(await expected.get(`${i}.pseudo_label`));
            assertEquals(
              ex.pseudo_label,
              Array.isArray(ex.pseudo_label) ? pseudo.map((c) => (c === -100 ? null : c)) : pseudo[0],
              `${name} #${i} label`,
            );
            assertEquals([ex.scores.length, ex.scores[0].length], [NH, T], `${name} #${i} score shape`);
            const want = await expected.get(`${i}.${method}.${layer}`);
            const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
            const flat = ex.scores.flat(2);
            flat.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - want[k]) / scale)));
            assertClose(flat, want, {
              atol: 1e-3 * scale,
              rtol: 1e-3,
              name: `${name} #${i} ${method} layer ${layer}`,
            });
          }
        }
        if (Deno.env.get("GOLDEN_VERBOSE")) {
          console.log(`${name} ${method}: largest difference ${worst.toExponential(2)} of max |score|`);
        }
      } finally {
        await Deno.remove(output);
        expected.close();
      }
    });
  }
}

gpuTest(
  "attribute() refuses an input that does not suit the head, naming the file, and writes nothing",
  async (gpu) => {
    const fixtures = new URL("../fixtures", import.meta.url).pathname;
    const output = `${await Deno.makeTempDir()}/out.json`;
    const cases = [
      ["electra_tok_cls", "attribution/bert_seq_cls.jsonl", "reads a CoNLL file"],
      ["bert_seq_cls", "attribution/electra_tok_cls.conll", "needs a token-classification checkpoint"],
    ];
    for (const [name, input, want] of cases) {
      const path = `${fixtures}/${input}`;
      await assertRejects(
        () => attribute({ model: `${fixtures}/${name}`, input: path, layer: 0, method: "grad", output, gpu }),
        (e: Error) => e.name === "DataError" && e.message.startsWith(`${path}: `) && e.message.includes(want),
      );
      await assertRejects(() => Deno.stat(output));
    }
  },
);

gpuTest(
  "attribute(), predict() and evaluate() refuse a checkpoint without a task head, naming its config",
  async (gpu) => {
    const fixtures = new URL("../fixtures", import.meta.url).pathname;
    const model = `${fixtures}/bert_mlm`;
    const input = `${fixtures}/attribution/bert_seq_cls.jsonl`;
    const output = `${await Deno.makeTempDir()}/out`;
    const want = (e: Error) =>
      e.name === "InputError" &&
      e.message.startsWith(`${model}/config.json: the checkpoint has no task head`);
    await assertRejects(() => attribute({ model, input, layer: 0, method: "grad", output, gpu }), want);
    await assertRejects(() => predict({ model, input, output, gpu }), want);
    await assertRejects(() => evaluate({ model, validation: input, gpu }), want);
    await assertRejects(() => Deno.stat(output));
  },
);
