/**
 * `--resume` end to end (64 spam rows, a one-layer scratch BERT, AD-DROP with cross-tuning so that the resumed
 * epoch is an AD-DROP epoch): a run interrupted during epoch 2 and resumed with the same options ends with
 * bit-identical weights, optimizer state, log and results to an uninterrupted run. Extending a finished run
 * with a larger `epochs` matches an uninterrupted longer run under a constant learning rate, and says that a
 * linear schedule makes it differ; any other changed option is refused.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { OptionsError, parseTrainOptions, type TrainOptionsInput } from "../../src/cli/train_options.ts";
import { type RunEvent, train } from "../../src/pipeline/run.ts";
import { modelFromData, readJson, readJsonl, spamTask, tmpFiles } from "../_util/e2e.ts";
import { hasGpu } from "../_util/gpu.ts";

class Interrupt extends Error {}

/** Files that must be byte-identical between an uninterrupted and a resumed run. */
const SAME = [
  "model.safetensors",
  "config.json",
  "eval_results.json",
  "last/model.safetensors",
  "last/optimizer.safetensors",
];

async function setup(dir: string) {
  const task = await spamTask(dir, { train: 64, validation: 32 });
  const model = await modelFromData(`${dir}/model`, task.train, {
    vocabSize: 500,
    head: "sequence_classification",
    labels: task.labels,
    seed: 3,
  });
  return (outputDir: string, extra: Partial<TrainOptionsInput> = {}) =>
    parseTrainOptions({
      model,
      train: task.train,
      validation: task.validation,
      outputDir,
      epochs: 2,
      batchSize: 16,
      maxLength: 32,
      learningRate: 3e-3,
      warmupRatio: 0.2,
      seed: 3,
      ...extra,
    });
}

async function assertSameRun(a: string, b: string): Promise<void> {
  for (const f of SAME) {
    const [x, y] = [await Deno.readFile(`${a}/${f}`), await Deno.readFile(`${b}/${f}`)];
    // (assert's deep equality would diff the whole arrays on failure: far too slow for weight files)
    let at = x.findIndex((v, i) => v !== y[i]);
    if (at < 0 && x.length !== y.length) at = Math.min(x.length, y.length);
    assert(at < 0, `${f}: ${b} differs from ${a} from byte ${at} (sizes ${y.length}, ${x.length})`);
  }
  const strip = (rows: Record<string, unknown>[]) => rows.map(({ tokens_per_second: _, ...r }) => r);
  assertEquals(
    strip(await readJsonl(`${b}/train_log.jsonl`)),
    strip(await readJsonl(`${a}/train_log.jsonl`)),
  );
  const state = async (d: string) => {
    const { options: _, ...s } = await readJson(`${d}/last/trainer_state.json`);
    return s;
  };
  assertEquals(await state(b), await state(a));
}

Deno.test({
  name: "train(): an interrupted run resumed with resume: true is bit-identical to an uninterrupted one",
  ignore: !hasGpu,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "addrop_resume_e2e_" });
    try {
      const options = await setup(dir);
      const whole = await train(options(`${dir}/whole`));
      assertEquals(whole.steps, 8);

      // Interrupted after 2 optimizer steps of epoch 2 (an AD-DROP epoch).
      const out = `${dir}/resumed`;
      await rejects(
        train(options(out), (e) => {
          if (e.type === "step" && e.record.epoch > 1.4) throw new Interrupt("stop");
        }),
        Interrupt,
      );
      const saved = await readJson<{ epoch: number; step: number }>(`${out}/last/trainer_state.json`);
      assertEquals([saved.epoch, saved.step], [1, 4]);
      assertEquals(await tmpFiles(out), []);

      const events: RunEvent[] = [];
      const resumed = await train(options(out, { resume: true }), (e) => events.push(e));
      assert(
        events.some((e) => e.type === "info" && e.message.startsWith("resuming after epoch 1 (step 4)")),
      );
      assertEquals(resumed.steps, 8);
      assertEquals(resumed.evalResults, whole.evalResults);
      await assertSameRun(`${dir}/whole`, out);
      assertEquals(await tmpFiles(out), []);

      // A changed option (other than the length of the run) is refused, and nothing is touched.
      const before = await Deno.readTextFile(`${out}/last/trainer_state.json`);
      await rejects(train(options(out, { resume: true, learningRate: 1e-3, q: 0.5 })), (e: Error) => {
        assert(e instanceof OptionsError, String(e));
        assert(/--learning-rate: the run was started with 0\.003, got 0\.001/.test(e.message), e.message);
        assert(/--q: the run was started with 0\.2, got 0\.5/.test(e.message), e.message);
        return true;
      });
      assertEquals(await Deno.readTextFile(`${out}/last/trainer_state.json`), before);

      // Extending the linear run by an epoch: allowed, but it says the schedule now spans 12 steps.
      const info: string[] = [];
      const longer = await train(options(out, { resume: true, epochs: 3 }), (e) => {
        if (e.type === "info") info.push(e.message);
      });
      assertEquals(longer.steps, 12);
      assert(
        info.some((m) => m.includes("started for 8 optimizer steps, it now runs 12")),
        `no schedule warning in ${JSON.stringify(info)}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "train(): epochs 1, then epochs 2 with resume, equals an uninterrupted 2-epoch run (constant LR)",
  ignore: !hasGpu,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "addrop_extend_e2e_" });
    try {
      const options = await setup(dir);
      const constant = { lrSchedule: "constant", warmupRatio: 0 } as const;
      await train(options(`${dir}/whole`, constant));
      const out = `${dir}/extended`;
      const first = await train(options(out, { ...constant, epochs: 1 }));
      assertEquals(first.steps, 4);
      const info: string[] = [];
      const second = await train(options(out, { ...constant, epochs: 2, resume: true }), (e) => {
        if (e.type === "info") info.push(e.message);
      });
      assertEquals(second.steps, 8);
      assert(!info.some((m) => m.includes("learning-rate schedule")), JSON.stringify(info));
      await assertSameRun(`${dir}/whole`, out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
