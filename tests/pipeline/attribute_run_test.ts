/**
 * Golden attribution tests: `attribute()` (grad, ig with m = 20, attention) on the first and last layer of the
 * `bert_seq_cls` and `bert_regression` checkpoints against the float64 PyTorch scores of
 * scripts/make_training_fixtures.py (tests/fixtures/attribution): within 1e-3 of the largest |score| + 1e-3
 * relative. Classification: F = the clean pass's pseudo-label logit (fixed along the IG path; the last
 * `bert_seq_cls` example's argmax leaves it at k = 1). Regression: F = -MSE with the gold label.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { attribute } from "../../src/pipeline/attribute_run.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";

const FIXTURES = ["bert_seq_cls", "bert_regression"];
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
          const got = await attribute({ model, input: `${dir}/${name}.jsonl`, layer, method, output, gpu });
          const written = JSON.parse(await Deno.readTextFile(output));
          assertEquals(written.examples.length, got.length);
          for (const [i, ex] of got.entries()) {
            const [NH, T] = expected.info(`${i}.${method}.${layer}`).shape;
            assertEquals(ex.tokens.length, expected.info(`${i}.input_ids`).shape[0], `${name} #${i} tokens`);
            assertEquals(
              ex.pseudo_label,
              (await expected.get(`${i}.pseudo_label`))[0],
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
