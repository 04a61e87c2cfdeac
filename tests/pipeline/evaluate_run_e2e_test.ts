/**
 * End-to-end `evaluate()`: its metrics agree with the labels `predict()` writes for the same checkpoint and
 * rows, counted here by hand. HANS-style: a 3-label NLI model scored on 2-label pair data through `labelMap`;
 * and a token-classification model on a CoNLL file.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { evaluate } from "../../src/pipeline/evaluate_run.ts";
import { predict } from "../../src/pipeline/predict.ts";
import { readJson, readJsonl, sentence, wordModel } from "../_util/e2e.ts";
import { gpuTest } from "../_util/gpu.ts";

const NLI = ["contradiction", "entailment", "neutral"];
const HANS_MAP = "neutral=non-entailment,contradiction=non-entailment";
const toHans = (l: string) => (l === "entailment" ? l : "non-entailment");

gpuTest("evaluate(): labelMap scores a 3-label model on 2-label data (HANS style)", async (gpu) => {
  const dir = await Deno.makeTempDir({ prefix: "addrop_evaluate_e2e_" });
  try {
    const model = await wordModel(`${dir}/model`, {
      head: "sequence_classification",
      labels: NLI,
      hidden: 32,
      seed: 5,
      initScale: 25,
    });
    const pairs = Array.from({ length: 60 }, (_, i) => ({
      text: sentence(i, 3 + (i % 5)),
      text_pair: sentence(200 + i, 2 + (i % 3)),
    }));
    await Deno.writeTextFile(`${dir}/pairs.jsonl`, pairs.map((r) => JSON.stringify(r)).join("\n") + "\n");
    await predict({ model, input: `${dir}/pairs.jsonl`, output: `${dir}/pred.jsonl`, gpu });
    const predicted = (await readJsonl<{ label: string }>(`${dir}/pred.jsonl`)).map((r) => r.label);
    assert(new Set(predicted.map(toHans)).size === 2, `predictions ${predicted} should map to both classes`);

    // Gold labels: the mapped prediction for rows 0..44, the other class for rows 45..59 -> accuracy 0.75.
    const gold = predicted.map((l, i) => {
      const h = toHans(l);
      return i < 45 ? h : h === "entailment" ? "non-entailment" : "entailment";
    });
    await Deno.writeTextFile(
      `${dir}/hans.jsonl`,
      pairs.map((r, i) => JSON.stringify({ ...r, label: gold[i] })).join("\n") + "\n",
    );
    const output = `${dir}/metrics.json`;
    const m = await evaluate({ model, validation: `${dir}/hans.jsonl`, labelMap: HANS_MAP, output, gpu });
    assertEquals(m.accuracy, 0.75);
    assertEquals(m.samples, 60);
    assert(!("loss" in m), "no loss: the model's labels are not the data's");
    assertEquals(await readJson(output), m);

    // Macro F1 by hand over the two gold classes.
    const mapped = predicted.map(toHans);
    const f1 = (c: string) => {
      const tp = mapped.filter((p, i) => p === c && gold[i] === c).length;
      const fp = mapped.filter((p, i) => p === c && gold[i] !== c).length;
      const fn = mapped.filter((p, i) => p !== c && gold[i] === c).length;
      return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    };
    assert(
      Math.abs(m.macro_f1 - (f1("entailment") + f1("non-entailment")) / 2) < 1e-12,
      `macro_f1 ${m.macro_f1}`,
    );

    // Without the map only "entailment" predictions can be right.
    const raw = await evaluate({ model, validation: `${dir}/hans.jsonl`, gpu });
    const right = predicted.filter((p, i) => p === gold[i]).length;
    assertEquals(raw.accuracy, right / 60);
    assert(raw.accuracy < m.accuracy);

    // Bad sizes are refused up front (batch size 0 used to loop forever).
    for (const bad of [{ batchSize: 0 }, { batchSize: 2.5 }, { maxLength: NaN }]) {
      await rejects(evaluate({ model, validation: `${dir}/hans.jsonl`, gpu, ...bad }), RangeError);
      await rejects(
        predict({ model, input: `${dir}/pairs.jsonl`, output: `${dir}/p.jsonl`, gpu, ...bad }),
        RangeError,
      );
    }
    await rejects(Deno.stat(`${dir}/p.jsonl`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

gpuTest(
  "evaluate(): token classification on a CoNLL file agrees with predict()'s word labels",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_evaluate_tok_" });
    try {
      const labels = ["B-LOC", "I-LOC", "O"];
      const model = await wordModel(`${dir}/model`, {
        head: "token_classification",
        labels,
        seed: 7,
        initScale: 25,
      });
      const sentences = Array.from({ length: 12 }, (_, i) => sentence(i, 2 + (i % 6)).split(" "));
      const tags = sentences.map((s, i) => s.map((_, k) => labels[(i + k) % 3]));
      const conll = sentences.map((s, i) => s.map((w, k) => `${w} ${tags[i][k]}`).join("\n") + "\n").join(
        "\n",
      );
      await Deno.writeTextFile(`${dir}/dev.conll`, conll);
      await predict({ model, input: `${dir}/dev.conll`, output: `${dir}/pred.jsonl`, gpu });
      const pred = (await readJsonl<{ words: { label: string }[] }>(`${dir}/pred.jsonl`)).map((r) =>
        r.words.map((w) => w.label)
      );
      const m = await evaluate({ model, validation: `${dir}/dev.conll`, gpu });
      const words = tags.flat().length;
      assert(new Set(pred.flat()).size > 1, `predictions ${pred} are all one tag`);
      const right = pred.flat().filter((p, i) => p === tags.flat()[i]).length;
      assertEquals(m.accuracy, right / words);
      assertEquals(m.samples, sentences.length);
      for (const k of ["precision", "recall", "f1"]) assert(m[k] >= 0 && m[k] <= 1, `${k} = ${m[k]}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
