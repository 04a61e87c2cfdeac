/**
 * `--max-train-samples` / `--max-eval-samples`: a run on 11 training and 7 validation rows limited to the first
 * 5 and 3 trains 3 steps per epoch (batch 2) and reports 3 evaluated examples; the first N rows in file order
 * are the ones kept; the label set still comes from the whole file; bad values are option errors that name the
 * flag.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { OptionsError, parseTrainOptions } from "../../src/cli/train_options.ts";
import { limitSamples, type RunData } from "../../src/pipeline/data.ts";
import { type StepRecord, train } from "../../src/pipeline/run.ts";
import { readJson, readJsonl, sentence, wordModel } from "../_util/e2e.ts";
import { gpuTest } from "../_util/gpu.ts";

const row = (i: number) => JSON.stringify({ text: sentence(i, 5), label: i % 2 ? "a" : "b" });

gpuTest("train(): --max-train-samples and --max-eval-samples limit steps and the evaluation", async (gpu) => {
  const dir = await Deno.makeTempDir({ prefix: "addrop_max_samples_" });
  try {
    const model = await wordModel(`${dir}/model`, { head: "sequence_classification", hidden: 16 });
    await Deno.writeTextFile(`${dir}/train.jsonl`, Array.from({ length: 11 }, (_, i) => row(i)).join("\n"));
    await Deno.writeTextFile(`${dir}/dev.jsonl`, Array.from({ length: 7 }, (_, i) => row(20 + i)).join("\n"));
    const base = {
      model,
      train: `${dir}/train.jsonl`,
      validation: `${dir}/dev.jsonl`,
      epochs: 2,
      batchSize: 2,
      maxLength: 16,
      adDrop: false,
    };
    const messages: string[] = [];
    const limited = await train(
      parseTrainOptions({ ...base, outputDir: `${dir}/limited`, maxTrainSamples: 5, maxEvalSamples: 3 }),
      (e) => e.type === "info" && messages.push(e.message),
      { gpu },
    );
    assertEquals(limited.steps, 6); // ceil(5 / 2) per epoch
    const log = await readJsonl<StepRecord>(`${dir}/limited/train_log.jsonl`);
    assertEquals(log.filter((r) => r.epoch <= 1).length, 3);
    const all = await readJson<{ train_samples: number; eval_samples: number }>(
      `${dir}/limited/all_results.json`,
    );
    assertEquals([all.train_samples, all.eval_samples], [5, 3]);
    assert(messages.some((m) => m.startsWith("5 training examples")), messages.join("\n"));

    // Without the limits: every row, and a limit above the file's size uses every row too (and says so).
    messages.length = 0;
    const full = await train(
      parseTrainOptions({ ...base, outputDir: `${dir}/full`, maxEvalSamples: 100 }),
      (e) => e.type === "info" && messages.push(e.message),
      { gpu },
    );
    assertEquals(full.steps, 12);
    const allFull = await readJson<{ eval_samples: number }>(`${dir}/full/all_results.json`);
    assertEquals(allFull.eval_samples, 7);
    assert(messages.some((m) => m.includes("--max-eval-samples (validation) 100")), messages.join("\n"));

    // The labels come from the whole file (as in run_glue.py): one training row of class "b" still scores
    // validation rows of class "a", and the head has both classes.
    const one = await train(
      parseTrainOptions({ ...base, outputDir: `${dir}/one`, maxTrainSamples: 1, epochs: 1 }),
      () => {},
      { gpu },
    );
    assertEquals(one.steps, 1);
    assertEquals((await readJson(`${dir}/one/config.json`)).id2label, { "0": "a", "1": "b" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("limitSamples keeps the first N in file order, per validation split", () => {
  const ex = (i: number) => ({ text: `t${i}`, label: "x" });
  const data: RunData = {
    kind: "sequence",
    regression: false,
    train: [0, 1, 2, 3, 4].map(ex),
    validation: [
      { name: "matched", suffix: "", examples: [5, 6, 7].map(ex) },
      { name: "mismatched", suffix: "_mm", examples: [8].map(ex) },
    ],
    skipped: 0,
  };
  const r = limitSamples(data, { maxTrainSamples: 2, maxEvalSamples: 2 });
  assertEquals((r.train as { text: string }[]).map((e) => e.text), ["t0", "t1"]);
  assertEquals(r.validation.map((s) => (s.examples as { text: string }[]).map((e) => e.text)), [
    ["t5", "t6"],
    ["t8"],
  ]);
  assertEquals(limitSamples(data, {}).train.length, 5);
});

Deno.test("--max-train-samples / --max-eval-samples: bad values are option errors naming the flag", () => {
  for (const [key, value] of [["maxTrainSamples", 0], ["maxTrainSamples", "1.5"], ["maxEvalSamples", -3]]) {
    try {
      parseTrainOptions({ [key]: value });
    } catch (e) {
      assert(e instanceof OptionsError);
      const flag = key === "maxTrainSamples" ? "--max-train-samples" : "--max-eval-samples";
      assert(e.message.includes(flag), e.message);
      continue;
    }
    throw new Error(`accepted ${key} = ${value}`);
  }
  assertEquals(parseTrainOptions({ maxTrainSamples: "7" }).maxTrainSamples, 7);
});
