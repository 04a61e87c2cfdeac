/**
 * Translation fine-tuning end to end on the tiny Marian fixture: batches (shift right, padding), `train()` to
 * BLEU 100 on the pairs it learns, the saved checkpoint loaded again and translating the same, `predict()` and
 * `evaluate()` on it, AD-DROP's masks for translation, and bad pair files.
 */
import assert from "node:assert/strict";
import { DataError } from "../../src/data/source.ts";
import { readTensor } from "../../src/gpu/readback.ts";
import { loadMarian, MarianModel } from "../../src/model/marian.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import { AdDropSeq2Seq } from "../../src/pipeline/addrop_seq2seq.ts";
import { evaluate } from "../../src/pipeline/evaluate_run.ts";
import { predict } from "../../src/pipeline/predict.ts";
import { train } from "../../src/pipeline/run.ts";
import {
  collatePairs,
  encodePair,
  readTranslationPairs,
  translationLoss,
} from "../../src/pipeline/translate.ts";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { readJson, readJsonl, tmpFiles } from "../_util/e2e.ts";
import { gpuTest } from "../_util/gpu.ts";
import { assertClose } from "../_util/assert_close.ts";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { attribute } from "../../src/pipeline/attribute_run.ts";

const DIR = new URL("../fixtures/marian", import.meta.url).pathname;
const PAIRS = `${DIR}/pairs.jsonl`;

Deno.test("collatePairs: labels padded with -100, decoder inputs shifted right behind the start token", () => {
  const b = collatePairs(
    [{ source: [5, 6, 0], target: [7, 0] }, { source: [8, 0], target: [9, 10, 11, 0] }],
    47,
    47,
  );
  assert.equal(b.T, 4);
  assert.deepEqual(Array.from(b.inputIds), [5, 6, 0, 47, 8, 0, 47, 47]);
  assert.deepEqual(Array.from(b.attentionMask), [1, 1, 1, 0, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(b.labels!), [7, 0, -100, -100, 9, 10, 11, 0]);
  // HF's shift_tokens_right: [start, labels[:-1]] with -100 read as pad.
  assert.deepEqual(Array.from(b.decoderInputIds), [47, 7, 0, 47, 47, 9, 10, 11]);
});

Deno.test("collatePairs rounds T up to a multiple of 8 within the limit; the padding is inert", () => {
  const pairs = [{ source: [5, 6, 0], target: [7, 0] }, { source: [8, 0], target: [9, 10, 11, 0] }];
  const b = collatePairs(pairs, 47, 47, 64);
  assert.equal(b.T, 8);
  assert.deepEqual(Array.from(b.attentionMask).slice(8), [1, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(b.labels!).slice(8), [9, 10, 11, 0, -100, -100, -100, -100]);
  assert.deepEqual(Array.from(b.decoderInputIds).slice(8), [47, 9, 10, 11, 0, 47, 47, 47]);
  assert.equal(collatePairs(pairs, 47, 47, 6).T, 6, "capped at the limit");
});

gpuTest("translation loss is the same with batches padded to a multiple of 8", async (gpu) => {
  const loaded = await loadMarian(gpu, DIR);
  const tok = await loadTokenizer(DIR);
  const items = (await readTranslationPairs(PAIRS)).pairs.slice(0, 6)
    .map((p) => encodePair({ source: tok, target: tok }, p));
  const longest = Math.max(...items.map((p) => Math.max(p.source.length, p.target.length)));
  assert.ok(longest % 8 !== 0, `the longest pair has ${longest} tokens`);
  const loss = async (maxLength: number) => {
    const m = await MarianModel.create(gpu, loaded, { maxBatch: 6, maxLength });
    try {
      return await translationLoss(m, items, 6, tok.padId);
    } finally {
      m.destroy();
    }
  };
  const exact = await loss(longest);
  const padded = await loss(longest + 8);
  assert.ok(Number.isFinite(exact) && exact > 0, `loss ${exact}`);
  assertClose([padded], [exact], { atol: 0, rtol: 2e-6, name: "loss" });
  loaded.store.destroy();
});

Deno.test("readTranslationPairs: a row without the target column names file, line and column", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(path, '{"source": "a", "target": "b"}\n{"source": "c"}\n');
    await assert.rejects(readTranslationPairs(path), (e: unknown) => {
      assert(e instanceof DataError);
      assert.match(e.message, new RegExp(`${path}:2: .*'target'`));
      return true;
    });
    const { pairs, skipped } = await readTranslationPairs(path, { skipBadRows: true });
    assert.deepEqual(pairs, [{ source: "a", target: "b" }]);
    assert.equal(skipped, 1);
  } finally {
    await Deno.remove(path);
  }
});

gpuTest(
  "train() on a Marian checkpoint learns the pairs (BLEU 100); the saved model reloads and agrees",
  async (gpu) => {
    const out = await Deno.makeTempDir({ prefix: "addrop_translate_" });
    try {
      const o = parseTrainOptions({
        model: DIR,
        train: PAIRS,
        validation: PAIRS,
        outputDir: out,
        epochs: 60,
        batchSize: 9,
        learningRate: 1e-2,
        lrSchedule: "constant",
        hiddenDropout: 0,
        adDrop: false,
        seed: 3,
      });
      const result = await train(o, () => {}, { gpu });
      assert.equal(result.metricName, "bleu");
      assert(Math.abs(result.bestMetric! - 100) < 1e-9, `best BLEU ${result.bestMetric}`);
      const all = await readJson(`${out}/all_results.json`) as { history: { loss: number }[] };
      assert(
        all.history.at(-1)!.loss < all.history[0].loss / 4,
        JSON.stringify(all.history.map((h) => h.loss)),
      );
      const config = await readJson(`${out}/config.json`) as Record<string, unknown>;
      assert.equal(config.model_type, "marian");
      assert.deepEqual(config.architectures, ["MarianMTModel"]);
      // The checkpoint reloads and translates as the run did.
      const predictions = (await Deno.readTextFile(`${out}/generated_predictions.txt`)).trimEnd().split("\n");
      const targets = (await readTranslationPairs(PAIRS)).pairs.map((p) => p.target);
      assert.deepEqual(predictions, targets);
      const predicted = `${out}/predict.jsonl`;
      assert.equal(await predict({ model: out, input: PAIRS, output: predicted, gpu }), targets.length);
      const rows = await readJsonl(predicted) as { source: string; translation: string }[];
      assert.deepEqual(rows.map((r) => r.translation), targets);
      const metrics = await evaluate({ model: out, validation: PAIRS, gpu });
      assert(Math.abs(metrics.bleu - 100) < 1e-9, `BLEU ${metrics.bleu}`);
      assert.equal(metrics.samples, targets.length);
      assert.deepEqual(await tmpFiles(out), []);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

gpuTest(
  "AD-DROP for translation: q = 0 masks nothing, p = q = 1 masks every real key of the selected layer",
  async (gpu) => {
    const loaded = await loadMarian(gpu, DIR);
    const tok = await loadTokenizer(DIR);
    const pairs = (await readTranslationPairs(PAIRS)).pairs.slice(0, 3);
    const batch = collatePairs(
      pairs.map((p) => encodePair({ source: tok, target: tok }, p)),
      tok.padId,
      loaded.cfg.decoderStartTokenId,
    );
    const m = await MarianModel.create(gpu, loaded, { maxBatch: 3, maxLength: batch.T });
    const NH = loaded.cfg.encoderHeads;
    const T = batch.T;
    const lengths = [0, 1, 2].map((b) =>
      Array.from(batch.attentionMask).slice(b * T, (b + 1) * T).filter(Boolean).length
    );
    const masked = async (p: number, q: number, attribution: "grad" | "attention" | "random") => {
      const ad = await AdDropSeq2Seq.create(m, {
        attribution,
        p,
        q,
        layers: [1],
        selection: "high",
        igSteps: 1,
        seed: 7,
      });
      await ad.prepare(batch, 0);
      await gpu.sync();
      const mask = await readTensor(gpu, ad.buffers.get(1)!.mask.view([3 * NH * T * T]));
      ad.destroy();
      let n = 0;
      for (let b = 0; b < 3; b++) {
        for (let r = 0; r < NH * T; r++) {
          for (let j = 0; j < T; j++) if (mask[(b * NH * T + r) * T + j] < 0) n++;
        }
      }
      return n;
    };
    // Real query rows x real keys: padded keys and padded query rows are never dropped.
    const real = lengths.reduce((a, n) => a + NH * n * n, 0);
    for (const method of ["grad", "attention", "random"] as const) {
      assert.equal(await masked(0.5, 0, method), 0, `${method}, q = 0`);
      assert.equal(await masked(1, 1, method), real, `${method}, p = q = 1 (lengths ${lengths}, T ${T})`);
    }
    // p = 0.5, q = 1: about half of each row's real keys (ties aside) from the attribution scores.
    const half = await masked(0.5, 1, "grad");
    assert(half > real * 0.3 && half < real * 0.75, `${half} of ${real}`);
    m.destroy();
    loaded.store.destroy();
  },
);

gpuTest("train() with AD-DROP on translation runs the masked program in AD-DROP epochs", async (gpu) => {
  const out = await Deno.makeTempDir({ prefix: "addrop_translate_ad_" });
  try {
    const steps: boolean[] = [];
    const o = parseTrainOptions({
      model: DIR,
      train: PAIRS,
      outputDir: out,
      epochs: 2,
      batchSize: 5,
      learningRate: 1e-3,
      layers: "all",
      p: 0.5,
      q: 0.5,
    });
    const result = await train(o, (e) => {
      if (e.type === "step") steps.push(e.record.ad_drop);
    }, { gpu });
    assert.deepEqual(steps, [false, false, true, true]);
    assert.equal(result.bestMetric, null);
    const log = await readJsonl(`${out}/train_log.jsonl`) as { loss: number }[];
    assert(log.every((r) => Number.isFinite(r.loss)));
    // --metric loss: the best epoch is the one with the lowest validation loss.
    const byLoss = await train(
      parseTrainOptions({
        model: DIR,
        train: PAIRS,
        validation: PAIRS,
        outputDir: `${out}/loss`,
        epochs: 3,
        metric: "loss",
      }),
      () => {},
      { gpu },
    );
    const history =
      (await readJson(`${out}/loss/all_results.json`) as { history: { loss: number }[] }).history;
    assert.equal(byLoss.metricName, "loss");
    assert.equal(byLoss.bestMetric, Math.min(...history.map((h) => h.loss)));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

class Interrupt extends Error {}

gpuTest(
  "translation --resume: a run interrupted in an AD-DROP epoch and resumed is bit-identical",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_translate_resume_" });
    try {
      const options = (outputDir: string, resume = false) =>
        parseTrainOptions({
          model: DIR,
          train: PAIRS,
          validation: PAIRS,
          outputDir,
          epochs: 3,
          batchSize: 3,
          learningRate: 3e-3,
          layers: "all",
          seed: 5,
          resume,
        });
      const whole = await train(options(`${dir}/whole`), () => {}, { gpu });
      assert.equal(whole.steps, 9);
      const out = `${dir}/resumed`;
      // Interrupted after the first step of epoch 2 (cross-tuning: an AD-DROP epoch).
      await assert.rejects(
        train(options(out), (e) => {
          if (e.type === "step" && e.record.epoch > 1.2) throw new Interrupt("stop");
        }, { gpu }),
        Interrupt,
      );
      const events: string[] = [];
      const resumed = await train(options(out, true), (e) => {
        if (e.type === "info") events.push(e.message);
      }, { gpu });
      assert(events.some((m) => m.startsWith("resuming after epoch 1 (step 3)")), events.join("\n"));
      assert.equal(resumed.steps, 9);
      assert.deepEqual(resumed.evalResults, whole.evalResults);
      for (
        const f of [
          "model.safetensors",
          "last/model.safetensors",
          "last/optimizer.safetensors",
          "eval_results.json",
        ]
      ) {
        const [a, b] = [await Deno.readFile(`${dir}/whole/${f}`), await Deno.readFile(`${out}/${f}`)];
        assert(a.length === b.length && a.every((x, i) => x === b[i]), `${f} differs`);
      }
      const strip = (rows: Record<string, unknown>[]) => rows.map(({ tokens_per_second: _, ...r }) => r);
      assert.deepEqual(
        strip(await readJsonl(`${out}/train_log.jsonl`)),
        strip(await readJsonl(`${dir}/whole/train_log.jsonl`)),
      );
      // Another option changed on --resume is refused, naming it.
      await assert.rejects(
        train({ ...options(out, true), learningRate: 1e-3 }, () => {}, { gpu }),
        /--learning-rate: the run was started with 0.003, got 0.001/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "attribute() on a Marian checkpoint: per-example dF/dA equals the PyTorch batch's, rescaled to its tokens",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_translate_attr_" });
    try {
      // The fixture batch is pairs.jsonl lines 5, 0, 7; F there is the mean over the batch's 12 target tokens.
      const lines = (await Deno.readTextFile(PAIRS)).trimEnd().split("\n");
      await Deno.writeTextFile(`${dir}/in.jsonl`, [5, 0, 7].map((i) => lines[i]).join("\n") + "\n");
      const want = await openSafetensors(`${DIR}/attribution.safetensors`);
      const [, NH, T] = want.info("dprobs.1").shape;
      const expected = await want.get("dprobs.1");
      const pseudo = await want.get("pseudo_labels");
      want.close();
      const out = await attribute({
        model: DIR,
        input: `${dir}/in.jsonl`,
        layer: 1,
        method: "grad",
        output: `${dir}/a.json`,
        html: `${dir}/a.html`,
        p: 0.3,
        gpu,
      });
      assert.equal(out.length, 3);
      const Tt = pseudo.length / 3;
      const total = Array.from(pseudo).filter((x) => x !== -100).length;
      out.forEach((ex, b) => {
        const Ts = ex.tokens.length;
        const n = (ex.pseudo_label as (number | null)[]).filter((x) => x !== null).length;
        assert.deepEqual(ex.pseudo_label, Array.from(pseudo.subarray(b * Tt, b * Tt + n)));
        const got = new Float32Array(ex.scores.flat(2));
        const ref = new Float32Array(NH * Ts * Ts);
        for (let h = 0; h < NH; h++) {
          for (let i = 0; i < Ts; i++) {
            for (let j = 0; j < Ts; j++) {
              ref[(h * Ts + i) * Ts + j] = expected[((b * NH + h) * T + i) * T + j] * total / n;
            }
          }
        }
        const scale = ref.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
        assertClose(got, ref, { atol: 1e-3 * scale, rtol: 1e-3, name: `example ${b}` });
        assert.equal(ex.candidates!.length, NH);
      });
      const html = await Deno.readTextFile(`${dir}/a.html`);
      assert(html.includes("<svg") || html.includes("<table"), "the HTML page draws the heatmaps");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("train() on a Marian checkpoint refuses --task and a missing --train, naming them", async () => {
  await assert.rejects(
    train(parseTrainOptions({ model: DIR, task: "sst2", dataDir: "x" })),
    /--task sst2 is for encoder checkpoints/,
  );
  await assert.rejects(train(parseTrainOptions({ model: DIR })), /translation needs --train/);
  await assert.rejects(
    train(parseTrainOptions({ model: DIR, train: PAIRS, metric: "accuracy" })),
    /--metric accuracy: translation selects by bleu \(default\) or loss/,
  );
});

gpuTest(
  "attribute() ig on a Marian checkpoint: one step is A * dF/dA; AD-DROP trains with ig",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_translate_ig_" });
    try {
      const lines = (await Deno.readTextFile(PAIRS)).trimEnd().split("\n");
      await Deno.writeTextFile(`${dir}/in.jsonl`, lines.slice(0, 2).join("\n") + "\n");
      const run = (method: "grad" | "ig" | "attention") =>
        attribute({
          model: DIR,
          input: `${dir}/in.jsonl`,
          layer: 0,
          method,
          igSteps: 1,
          output: `${dir}/${method}.json`,
          gpu,
        });
      const [grad, ig, probs] = [await run("grad"), await run("ig"), await run("attention")];
      ig.forEach((ex, b) => {
        const want = grad[b].scores.flat(2).map((g, i) => g * probs[b].scores.flat(2)[i]);
        assertClose(new Float32Array(ex.scores.flat(2)), want, {
          atol: 1e-6,
          rtol: 1e-3,
          name: `example ${b}`,
        });
        // The same pseudo-labels from the clean pass, whatever the method.
        assert.deepEqual(ex.pseudo_label, grad[b].pseudo_label);
        assert.deepEqual(probs[b].pseudo_label, grad[b].pseudo_label);
      });
      const steps: boolean[] = [];
      await train(
        parseTrainOptions({
          model: DIR,
          train: PAIRS,
          outputDir: `${dir}/out`,
          epochs: 2,
          batchSize: 5,
          attribution: "ig",
          igSteps: 3,
          layers: "all",
        }),
        (e) => e.type === "step" && steps.push(e.record.ad_drop),
        { gpu },
      );
      assert.deepEqual(steps, [false, false, true, true]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
