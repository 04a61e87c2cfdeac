/**
 * `runExperiments()` on two tiny injected tasks (a sequence task with a test set, a CoNLL token task), a tiny
 * scratch BERT (hidden 16, one layer), 4 configurations x 2 seeds, 2 epochs of 1-2 steps: every run folder has
 * all_results.json; results.json's mean and std match the runs' own files; the doc has the markers, the
 * command, a row per configuration; the SVG is well-formed with one panel per column; the scratch baseline
 * has the model's architecture and tokenizer; a rerun trains nothing and keeps hand-written text around the
 * markers. Also the option checks, the command round trip and the doc merge.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { parseResultsArgs } from "../../src/cli/results_options.ts";
import { OptionsError } from "../../src/cli/train_options.ts";
import { runExperiments } from "../../src/pipeline/experiment.ts";
import { scratchCopy } from "../../src/pipeline/experiment_data.ts";
import {
  experimentCommand,
  type ExperimentTask,
  planRuns,
  resolveOptions,
} from "../../src/pipeline/experiment_plan.ts";
import {
  BEGIN,
  END,
  type ExperimentResults,
  meanStd,
  mergeDoc,
} from "../../src/pipeline/experiment_report.ts";
import { readJson, sentence, wordModel, WORDS } from "../_util/e2e.ts";
import { gpuTest } from "../_util/gpu.ts";
import { wellFormed } from "../_util/xml.ts";

const CONFIGS = ["plain", "scratch", "grad_L0", "ig_all_ct"];
const SEEDS = [1, 2];
const budget = {
  maxTrainSamples: 6,
  maxEvalSamples: 4,
  epochs: 2,
  batchSize: 4,
  maxLength: 12,
  learningRate: 1e-3,
};

async function tinyTasks(dir: string): Promise<Record<string, ExperimentTask>> {
  const row = (i: number) => JSON.stringify({ text: sentence(i, 4), label: i % 2 ? "x" : "y" });
  const jsonl = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => row(from + i)).join("\n") + "\n";
  await Deno.writeTextFile(`${dir}/train.jsonl`, jsonl(0, 9)); // 6 of 9 used: 2 steps per epoch
  await Deno.writeTextFile(`${dir}/dev.jsonl`, jsonl(20, 5));
  await Deno.writeTextFile(`${dir}/test.jsonl`, jsonl(40, 3));
  const sent = (i: number) =>
    sentence(i, 3).split(" ").map((w) => `${w}\t${WORDS.indexOf(w) % 2 ? "A" : "B"}`).join("\n");
  const conll = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => sent(from + i)).join("\n\n") + "\n";
  await Deno.writeTextFile(`${dir}/train.conll`, conll(0, 7)); // 5 of 7 used: 2 steps per epoch
  await Deno.writeTextFile(`${dir}/dev.conll`, conll(10, 3));
  return {
    seq: {
      train: `${dir}/train.jsonl`,
      validation: `${dir}/dev.jsonl`,
      metric: "accuracy",
      description: "accuracy",
      tests: [{ name: "held", title: "seq (held out)", file: `${dir}/test.jsonl` }],
      budget,
    },
    tok: {
      train: `${dir}/train.conll`,
      validation: `${dir}/dev.conll`,
      metric: "accuracy",
      description: "token accuracy",
      hashOrder: true,
      budget: { ...budget, maxTrainSamples: 5 },
    },
  };
}

gpuTest(
  "runExperiments: 2 tasks x 4 configs x 2 seeds, results, doc and svg; a rerun trains nothing",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_experiment_" });
    try {
      const model = await wordModel(`${dir}/model`, {
        head: "masked_lm",
        hidden: 16,
        maxPositions: 16,
        seed: 99,
      });
      const taskTable = await tinyTasks(dir);
      const output = `${dir}/out`;
      const doc = `${dir}/docs/results.md`;
      const o = {
        tasks: ["seq", "tok"],
        configs: CONFIGS,
        seeds: SEEDS,
        igSteps: 2,
        model,
        output,
        doc,
        taskTable,
        gpu,
      };
      let steps = 0;
      const first = await runExperiments(o, (e) => e.type === "step" && steps++);
      assertEquals([first.trained, first.skipped], [16, 0]);
      assertEquals(steps, 16 * 4); // 2 epochs x 2 steps (6 or 5 examples, batch 4)

      const results = await readJson<ExperimentResults>(`${output}/results.json`);
      assertEquals(results.runs.length, 16);
      assertEquals(results.columns.map((c) => c.title), ["seq", "seq (held out)", "tok"]);
      assertEquals(results.cells.length, 3 * CONFIGS.length);
      for (const run of results.runs) {
        assertEquals(run.outputDir, `${output}/runs/${run.task}/${run.config}/seed${run.seed}`);
        const all = await readJson<Record<string, number>>(`${run.outputDir}/all_results.json`);
        assertEquals(run.value, all.eval_accuracy);
        assertEquals(all.train_samples, run.task === "seq" ? 6 : 5);
        // Checkpoints are deleted once scored; the held-out test set was scored before that.
        await rejects(Deno.stat(`${run.outputDir}/model.safetensors`));
        if (run.task === "seq") assertEquals(run.tests.held.samples, 3);
      }
      for (const cell of results.cells.filter((c) => c.column === "seq" || c.column === "tok")) {
        const values = [];
        for (const seed of SEEDS) {
          const f = `${output}/runs/${cell.task}/${cell.config}/seed${seed}/all_results.json`;
          values.push((await readJson<Record<string, number>>(f)).eval_accuracy);
        }
        const m = values.reduce((a, b) => a + b) / 2;
        assertEquals(cell.n, 2);
        assert(Math.abs(cell.mean! - m) < 1e-12, `${cell.column} ${cell.config} mean ${cell.mean} vs ${m}`);
        assert(Math.abs(cell.std! - Math.abs(values[0] - values[1]) / Math.SQRT2) < 1e-12, `std ${cell.std}`);
      }

      // The scratch baseline: the model's architecture and tokenizer, other weights.
      await rejects(Deno.stat(`${output}/scratch-models/seq-seed1`)); // deleted with the run's checkpoints
      const scratch = await scratchCopy(model, `${dir}/scratch`, 1);
      assertEquals(await readJson(`${scratch}/config.json`), await readJson(`${model}/config.json`));
      assertEquals(
        await Deno.readTextFile(`${scratch}/vocab.txt`),
        await Deno.readTextFile(`${model}/vocab.txt`),
      );
      const [a, b] = [
        await Deno.readFile(`${scratch}/model.safetensors`),
        await Deno.readFile(`${model}/model.safetensors`),
      ];
      assert(a.length === b.length && a.some((x, i) => x !== b[i]), "scratch weights equal the model's");

      const text = await Deno.readTextFile(doc);
      assert(text.includes(BEGIN) && text.includes(END));
      assert(text.includes(experimentCommand(resolveOptions(o))), "the doc lacks the command");
      for (const c of CONFIGS) {
        assert(
          new RegExp(`^\\| \`${c}\` \\|( [^|]+ \\|){3}$`, "m").test(text),
          `row ${c}`,
        );
      }
      assert(text.includes("![results](results.svg)"));
      const svg = await Deno.readTextFile(`${dir}/docs/results.svg`);
      assertEquals(wellFormed(svg)[0], "svg");
      assertEquals((svg.match(/<g class="panel">/g) ?? []).length, 3);
      assertEquals((svg.match(/<circle class="seed"/g) ?? []).length, 3 * 8);

      // Hand-written text around the markers survives; a rerun trains nothing and gives the same cells.
      await Deno.writeTextFile(
        doc,
        `# Mine\n\nBefore.\n\n${text.slice(text.indexOf(BEGIN), text.indexOf(END) + END.length)}\nAfter.\n`,
      );
      steps = 0;
      const messages: string[] = [];
      const again = await runExperiments(o, (e) => {
        if (e.type === "step") steps++;
        if (e.type === "info") messages.push(e.message);
      });
      assertEquals([again.trained, again.skipped, steps], [0, 16, 0]);
      assertEquals(messages.filter((m) => m.endsWith("finished before, skipped")).length, 16);
      assertEquals(again.results!.cells, results.cells);
      const text2 = await Deno.readTextFile(doc);
      assert(text2.startsWith("# Mine\n\nBefore.\n\n" + BEGIN) && text2.endsWith(`${END}\nAfter.\n`), text2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("experiment options: bad values are errors naming the flag; plan order; dry run", async () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ configs: ["plain", "grad_L1"] }, "unknown configuration 'grad_L1'"],
    [{ seeds: [] }, "--seeds: give at least one seed"],
    [{ tasks: ["spam", "mnli"] }, "unknown task 'mnli'"],
    [{ budget: { epochs: { nope: 2 } } }, "'nope' is not one of the tasks"],
    [{ budget: { epochs: 0 } }, "--epochs"],
    [{ skip: ["spam"] }, "'spam' is not task:config"],
    [{ skip: ["mnli:*"] }, "'mnli:*' matches no task and configuration"],
  ];
  for (const [o, message] of bad) {
    const e = await runExperiments({ ...o, dryRun: true }).then(() => null, (e) => e);
    assert(e instanceof OptionsError && e.message.includes(message), `${JSON.stringify(o)}: ${e?.message}`);
  }
  const r = resolveOptions({ seeds: [7, 8], configs: ["plain", "ig_L0"], budget: { epochs: { spam: 5 } } });
  const plan = planRuns(r);
  assertEquals(plan.length, 2 * 3 * 2);
  assertEquals(plan.slice(0, 3).map((p) => `${p.seed} ${p.task} ${p.config}`), [
    "7 spam plain",
    "7 spam ig_L0",
    "7 brown_genre plain",
  ]);
  assertEquals([plan[0].options.epochs, plan[2].options.epochs, plan[1].options.crossTuning], [5, 2, false]);
  assertEquals([plan[1].options.attribution, plan[1].options.layers, plan[1].options.igSteps], [
    "ig",
    [0],
    20,
  ]);
  // --skip: patterns leave cells out of the plan.
  const skipped = planRuns(resolveOptions({ seeds: [1], skip: ["brown_*:ig_*", "*:grad_all"] }));
  assertEquals(skipped.length, (10 - 1) + 2 * (10 - 4 - 1));
  assert(!skipped.some((p) => p.config === "grad_all" || (p.task !== "spam" && p.config.startsWith("ig_"))));
  assert(skipped.some((p) => p.task === "spam" && p.config === "ig_all_ct"));
  const messages: string[] = [];
  const dry = await runExperiments(
    { tasks: ["spam"], configs: ["grad_all_ct"], seeds: [1], output: "/nonexistent/x", dryRun: true },
    (e) => e.type === "info" && messages.push(e.message),
  );
  assertEquals([dry.plan.length, dry.results], [1, null]);
  assert(
    messages[0].includes("spam grad_all_ct seed 1") && messages[0].includes('layers "all"'),
    messages[0],
  );
  assertEquals(messages.at(-1), "1 runs planned, 0 already finished, 1 to train");
});

Deno.test("parseResultsArgs: the reproduce command parses back to the same options", () => {
  const o = parseResultsArgs([
    "--tasks=spam,brown_pos",
    "--seeds",
    "3,4",
    "--epochs",
    "spam=4,brown_pos=2",
    "--learning-rate",
    "3e-4",
    "--ig-steps",
    "8",
    "--skip",
    "brown_pos:ig_*",
    "--dry-run",
  ]);
  assertEquals(o.skip, ["brown_pos:ig_*"]);
  assertEquals(o.budget, { epochs: { spam: 4, brown_pos: 2 }, learningRate: 3e-4 });
  const command = experimentCommand(resolveOptions(o));
  const args = command.replace(/\\\n/g, " ").split(/\s+/).slice(3);
  assertEquals(experimentCommand(resolveOptions(parseResultsArgs(args))), command);
  for (
    const args of [["--seeds", "1,x"], ["--epochs", "spam=0"], ["--max-length", "1.5"], ["--bogus", "1"]]
  ) {
    let threw = false;
    try {
      parseResultsArgs(args);
    } catch (e) {
      threw = e instanceof OptionsError;
    }
    assert(threw, `accepted ${args.join(" ")}`);
  }
});

Deno.test("mergeDoc keeps text outside the markers; meanStd is the sample std", () => {
  assert(mergeDoc(null, "T").endsWith(`${BEGIN}\nT\n${END}\n`));
  assertEquals(mergeDoc(`a\n${BEGIN}\nold\n${END}\nb\n`, "new"), `a\n${BEGIN}\nnew\n${END}\nb\n`);
  let threw = false;
  try {
    mergeDoc(`a\n${BEGIN}\nno end\n`, "x");
  } catch {
    threw = true;
  }
  assert(threw, "a doc with one marker was overwritten");
  assertEquals(meanStd([1, 2, 3]), { mean: 2, std: 1 });
  assertEquals(meanStd([5]), { mean: 5, std: 0 });
});
