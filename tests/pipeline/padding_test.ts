/**
 * Batches are padded to a multiple of 8 tokens (within the encoder's maxLength), so that the attention takes
 * its T % 4 = 0 kernels; the padding changes no result: a token-classification and a sequence-classification
 * model give the same logits with their batches padded to 8 / 16 as padded only to the longest example.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Encoder } from "../../src/model/encoder.ts";
import { loadModel } from "../../src/model/model.ts";
import { IGNORE_INDEX, loadTokenizer } from "../../src/model/tokenizer.ts";
import { predictLogits } from "../../src/pipeline/evaluate.ts";
import { collate, type EncodedExample, paddedLength } from "../../src/pipeline/tokenize.ts";
import { ProgramCache } from "../../src/pipeline/train_step.ts";
import { assertClose } from "../_util/assert_close.ts";
import { sentence, wordModel } from "../_util/e2e.ts";
import { gpuTest } from "../_util/gpu.ts";

const item = (n: number, target: number | null = 1, tokens = false): EncodedExample => ({
  ids: Array.from({ length: n }, (_, i) => 10 + i),
  typeIds: Array.from({ length: n }, () => 0),
  target: tokens ? null : target,
  ...(tokens ? { tokenTargets: Array.from({ length: n }, (_, i) => i % 3) } : {}),
});

Deno.test("paddedLength rounds up to a multiple of 8 within the limit, never below the longest", () => {
  assertEquals([1, 7, 8, 9, 15, 16, 17, 127, 128].map((T) => paddedLength(T, 512)), [
    8,
    8,
    8,
    16,
    16,
    16,
    24,
    128,
    128,
  ]);
  assertEquals(paddedLength(9, 12), 12, "capped at the limit");
  assertEquals(paddedLength(9, 9), 9, "a limit at the longest leaves it");
  assertEquals(paddedLength(13, 10), 13, "never shorter than the longest example");
});

Deno.test("collate pads to the rounded length: pad ids, mask 0, labels -100 on the padding", () => {
  const b = collate([item(5), item(3)], 0, 64);
  assertEquals([b.B, b.T], [2, 8]);
  assertEquals(Array.from(b.attentionMask), [1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
  assertEquals(Array.from(b.inputIds).slice(8), [10, 11, 12, 0, 0, 0, 0, 0]);
  assertEquals(Array.from(b.labels!), [1, 1], "sequence targets stay one per example");
  const tok = collate([item(9, null, true)], 0, 12);
  assertEquals(tok.T, 12);
  assertEquals(Array.from(tok.labels!).slice(8), [2, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]);
  assertEquals(collate([item(9)], 0, 9).T, 9);
});

for (const head of ["sequence_classification", "token_classification"] as const) {
  gpuTest(`padding to a multiple of 8 leaves the ${head} logits unchanged`, async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_padding_" });
    try {
      const model = await wordModel(`${dir}/m`, { head, labels: ["a", "b", "c"], layers: 2 });
      const m = await loadModel(gpu, model);
      const tok = await loadTokenizer(model, { maxLength: 32, typeIds: m.cfg.typeVocabSize > 1 });
      // Lengths 3 .. 13 tokens ([CLS] + words + [SEP]).
      const items = Array.from({ length: 9 }, (_, i) => {
        const e = tok.encode(sentence(i, 1 + ((i * 5) % 11)), null);
        return { ids: e.ids, typeIds: e.typeIds, target: null };
      });
      const longest = Math.max(...items.map((e) => e.ids.length));
      assert(items.some((e) => e.ids.length % 8 !== 0));
      const logits = async (maxLength: number, batch: number) => {
        const enc = await Encoder.create(gpu, m.cfg, m.store, { maxBatch: batch, maxLength });
        try {
          return (await predictLogits(enc, new ProgramCache(enc), items, batch, tok.padId)).logits;
        } finally {
          enc.destroy();
        }
      };
      // Batches of 3 padded to multiples of 8 (8 or 16 tokens), against one batch of all 9 at exactly the
      // longest length (maxLength caps the rounding), which takes the T % 4 != 0 kernels.
      assert(longest % 4 !== 0, `the longest example has ${longest} tokens`);
      const padded = await logits(32, 3);
      const exact = await logits(longest, items.length);
      assertEquals(padded.length, items.length);
      padded.forEach((row, i) => {
        assertEquals(row.length, exact[i].length);
        assertClose(row, exact[i], { atol: 2e-5, rtol: 1e-4, name: `example ${i}` });
      });
      m.store.destroy();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
