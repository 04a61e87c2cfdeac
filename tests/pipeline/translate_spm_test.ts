/**
 * A checkpoint in OPUS-MT's layout (config.json, model.safetensors, source.spm, target.spm, vocab.json,
 * tokenizer_config.json; no tokenizer.json) through `train()`, `predict()` and `evaluate()`: sources are encoded
 * with source.spm, targets and translations with target.spm, and the saved checkpoint keeps OPUS-MT's files
 * (so transformers' MarianTokenizer loads it) and no tokenizer.json.
 */
import assert from "node:assert/strict";
import { writeSafetensors } from "../../src/io/safetensors_writer.ts";
import { parseMarianConfig } from "../../src/model/marian_config.ts";
import { loadMarianTokenizers } from "../../src/model/marian_tokenizer.ts";
import { marianHfTensors, marianParamSpecs } from "../../src/model/marian_weights.ts";
import { initValues } from "../../src/model/weights.ts";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { evaluate } from "../../src/pipeline/evaluate_run.ts";
import { predict } from "../../src/pipeline/predict.ts";
import { train } from "../../src/pipeline/run.ts";
import { encodePair, loadTranslationTokenizers } from "../../src/pipeline/translate.ts";
import { readJson, readJsonl, tmpFiles } from "../_util/e2e.ts";
import { gpuTest } from "../_util/gpu.ts";

const SPM = new URL("../fixtures/marian_spm", import.meta.url).pathname;
const FILES = ["source.spm", "target.spm", "vocab.json", "tokenizer_config.json"];

/** A random tiny Marian model over the fixture's vocab.json, with OPUS-MT's tokenizer files beside it. */
async function opusLayout(dir: string): Promise<void> {
  const vocab = await readJson(`${SPM}/vocab.json`) as Record<string, number>;
  const V = Object.keys(vocab).length;
  const cfg = parseMarianConfig({
    model_type: "marian",
    architectures: ["MarianMTModel"],
    vocab_size: V,
    d_model: 16,
    encoder_layers: 1,
    decoder_layers: 1,
    encoder_attention_heads: 2,
    decoder_attention_heads: 2,
    encoder_ffn_dim: 32,
    decoder_ffn_dim: 32,
    activation_function: "swish",
    max_position_embeddings: 128,
    scale_embedding: true,
    pad_token_id: vocab["<pad>"],
    decoder_start_token_id: vocab["<pad>"],
    eos_token_id: vocab["</s>"],
    forced_eos_token_id: vocab["</s>"],
    bad_words_ids: [[vocab["<pad>"]]],
    dropout: 0,
  });
  const specs = marianParamSpecs(cfg);
  const params = specs.map((s, i) => initValues(s, 0.2, 7, i));
  await Deno.mkdir(dir, { recursive: true });
  await writeSafetensors(
    `${dir}/model.safetensors`,
    marianHfTensors(cfg, specs, params, new Float32Array(V)),
  );
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(cfg.raw));
  for (const f of FILES) await Deno.copyFile(`${SPM}/${f}`, `${dir}/${f}`);
}

gpuTest(
  "an OPUS-MT layout (source.spm, target.spm, vocab.json) trains, saves its own files, predicts",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_opus_" });
    try {
      await opusLayout(`${dir}/model`);
      const expected = await readJson(`${SPM}/expected.json`) as Record<string, { text: string }[]>;
      const pairs = expected.source.map((s, i) => ({
        source: s.text,
        target: expected.target[i]?.text ?? "",
      }))
        .filter((p) => p.source.trim() && p.target.trim());
      await Deno.writeTextFile(`${dir}/pairs.jsonl`, pairs.map((p) => JSON.stringify(p)).join("\n") + "\n");
      const out = `${dir}/out`;
      const result = await train(
        parseTrainOptions({
          model: `${dir}/model`,
          train: `${dir}/pairs.jsonl`,
          validation: `${dir}/pairs.jsonl`,
          maxEvalSamples: 4,
          outputDir: out,
          epochs: 4,
          batchSize: 8,
          learningRate: 1e-2,
          maxLength: 64,
          adDrop: false,
        }),
        () => {},
        { gpu },
      );
      assert.equal(result.metricName, "bleu");
      const history = (await readJson(`${out}/all_results.json`) as { history: { loss: number }[] }).history;
      assert(history.at(-1)!.loss < history[0].loss, JSON.stringify(history));
      // The checkpoint keeps OPUS-MT's tokenizer files, byte for byte, and gains no tokenizer.json.
      for (const f of FILES) {
        assert.deepEqual(await Deno.readFile(`${out}/${f}`), await Deno.readFile(`${SPM}/${f}`), f);
      }
      await assert.rejects(Deno.stat(`${out}/tokenizer.json`), Deno.errors.NotFound);
      const tok = await loadTranslationTokenizers(out);
      assert.equal(tok.spm, true);
      // encodePair: the source through source.spm, the target through target.spm (which splits it apart).
      const first = expected.source[0] as unknown as { text: string; ids: number[] };
      const pair = encodePair(tok, { source: first.text, target: first.text });
      assert.deepEqual(pair.source, first.ids);
      assert.deepEqual(pair.target, tok.target.encode(first.text).ids);
      assert.notDeepEqual(pair.source, pair.target);
      // Sources go through source.spm, translations come out of target.spm.
      const spm = (await loadMarianTokenizers(SPM))!;
      const n = await predict({ model: out, input: `${dir}/pairs.jsonl`, output: `${dir}/pred.jsonl`, gpu });
      assert.equal(n, pairs.length);
      const rows = await readJsonl(`${dir}/pred.jsonl`) as { source: string; translation: string }[];
      assert.deepEqual(rows.map((r) => r.source), pairs.map((p) => p.source));
      for (const r of rows) {
        const ids = spm.target.encode(r.translation).ids;
        assert.equal(spm.target.tokenizer.decode(ids, { skip_special_tokens: true }), r.translation);
      }
      const metrics = await evaluate({ model: out, validation: `${dir}/pairs.jsonl`, gpu });
      assert.equal(metrics.samples, pairs.length);
      assert(Number.isFinite(metrics.bleu) && Number.isFinite(metrics.loss));
      assert.deepEqual(await tmpFiles(out), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
