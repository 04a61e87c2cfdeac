/**
 * End-to-end `train()` on a small real task: the first 200 training and 100 validation rows of data/spam, a
 * one-layer scratch BERT (hidden 32) whose 1,000-token vocabulary is learned from those rows, max length 48.
 * With and without AD-DROP the run must beat the validation subset's majority-class share, write every output
 * file (and no temporary one), stop early with `patience`, and save the best epoch's weights: reloading the
 * checkpoint and evaluating it reproduces eval_results.json.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { evaluate } from "../../src/pipeline/evaluate_run.ts";
import { type StepRecord, train } from "../../src/pipeline/run.ts";
import { modelFromData, readJson, readJsonl, spamTask, tmpFiles } from "../_util/e2e.ts";
import { gpuTest } from "../_util/gpu.ts";

const EPOCHS = 10;
const PATIENCE = 2;
const FILES = [
  "config.json",
  "model.safetensors",
  "tokenizer.json",
  "tokenizer_config.json",
  "train_log.jsonl",
  "eval_results.json",
  "all_results.json",
  "last/model.safetensors",
  "last/optimizer.safetensors",
  "last/trainer_state.json",
];

for (const adDrop of [false, true]) {
  gpuTest(
    `train() learns spam vs ham ${adDrop ? "with" : "without"} AD-DROP; best epoch saved`,
    async (gpu) => {
      const dir = await Deno.makeTempDir({ prefix: "addrop_train_e2e_" });
      try {
        const task = await spamTask(dir, { train: 200, validation: 100 });
        const model = await modelFromData(`${dir}/model`, task.train, {
          vocabSize: 1000,
          head: "sequence_classification",
          labels: task.labels,
        });
        const out = `${dir}/run`;
        const options = parseTrainOptions({
          model,
          train: task.train,
          validation: task.validation,
          outputDir: out,
          epochs: EPOCHS,
          batchSize: 16,
          maxLength: 48,
          learningRate: 3e-3,
          seed: 1,
          patience: PATIENCE,
          adDrop,
        });
        const result = await train(options);

        // Above chance: better than always answering the majority label.
        assert(
          result.bestMetric! > task.majorityShare,
          `accuracy ${result.bestMetric} <= majority share ${task.majorityShare}`,
        );
        for (const f of FILES) assert((await Deno.stat(`${out}/${f}`)).size > 0, `${f} missing or empty`);
        assertEquals(await tmpFiles(out), []);

        const config = await readJson(`${out}/config.json`);
        assertEquals(config.architectures, ["BertForSequenceClassification"]);
        assertEquals(config.id2label, { "0": "ham", "1": "spam" });
        assertEquals(config.label2id, { ham: 0, spam: 1 });
        await readJson(`${out}/tokenizer.json`);
        await readJson(`${out}/tokenizer_config.json`);

        // The log: one line per optimizer step; cross-tuning makes even (1-based) epochs AD-DROP epochs.
        const log = await readJsonl<StepRecord>(`${out}/train_log.jsonl`);
        assertEquals(log.length, result.steps);
        for (const [i, r] of log.entries()) {
          assertEquals(
            Object.keys(r).sort(),
            ["ad_drop", "epoch", "grad_norm", "learning_rate", "loss", "step", "tokens_per_second"],
          );
          assertEquals(r.step, i + 1);
          for (const k of ["epoch", "loss", "learning_rate", "grad_norm", "tokens_per_second"] as const) {
            assert(Number.isFinite(r[k]) && r[k] >= 0, `step ${r.step}: ${k} = ${r[k]}`);
          }
          const epoch = Math.ceil(r.epoch); // 1-based epoch the step belongs to
          assertEquals(r.ad_drop, adDrop && epoch % 2 === 0, `step ${r.step} (epoch ${r.epoch}): ad_drop`);
        }
        if (adDrop) assert(log.some((r) => r.ad_drop) && log.some((r) => !r.ad_drop));

        // Early stopping after PATIENCE epochs without improvement; the best epoch is the first maximum.
        const all = await readJson<{ history: Record<string, number>[] } & Record<string, unknown>>(
          `${out}/all_results.json`,
        );
        const history = all.history;
        const accs = history.map((m) => m.accuracy);
        const best = result.bestEpoch!;
        assertEquals(best, accs.indexOf(Math.max(...accs)) + 1, `best epoch of ${accs}`);
        assertEquals(history.length, Math.min(EPOCHS, best + PATIENCE), `epochs run, accuracies ${accs}`);
        assert(history.length < EPOCHS, `early stopping never triggered: accuracies ${accs}`);
        if (Deno.env.get("E2E_VERBOSE")) {
          console.log(`accuracy by epoch ${accs.join(" ")}; best ${best}; majority ${task.majorityShare}`);
        }
        assertEquals(Math.ceil(log.at(-1)!.epoch), history.length);

        const evalResults = await readJson<Record<string, number>>(`${out}/eval_results.json`);
        assertEquals(evalResults, result.evalResults);
        assertEquals(evalResults, history[best - 1]);
        assertEquals(evalResults.epoch, best);
        assertEquals(all.eval_accuracy, evalResults.accuracy);
        assertEquals(all.best_epoch, best);
        assertEquals(all.train_steps, result.steps);
        assertEquals(all.selection_metric, "accuracy");

        // The saved checkpoint is the best epoch's, not the last one's.
        const reloaded = await evaluate({
          model: out,
          validation: task.validation,
          maxLength: 48,
          batchSize: 16,
          gpu,
        });
        assertEquals(reloaded.accuracy, evalResults.accuracy);
        assertEquals(reloaded.macro_f1, evalResults.macro_f1);
        assert(
          Math.abs(reloaded.loss - evalResults.loss) <= 1e-6,
          `loss ${reloaded.loss} vs ${evalResults.loss}`,
        );
        const last = await evaluate({
          model: `${out}/last`,
          validation: task.validation,
          maxLength: 48,
          batchSize: 16,
          gpu,
        });
        assert(Math.abs(last.loss - history.at(-1)!.loss) <= 1e-6, `last loss ${last.loss}`);
        assert(last.loss !== reloaded.loss, "the best and the last checkpoint are the same weights");

        // Resuming a run that stopped early trains no further.
        const again = await train({ ...options, resume: true });
        assertEquals(again.steps, result.steps);
        assertEquals(
          (await readJson<{ history: unknown[] }>(`${out}/all_results.json`)).history.length,
          history.length,
        );
        assertEquals(await tmpFiles(out), []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
