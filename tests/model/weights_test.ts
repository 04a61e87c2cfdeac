import assert from "node:assert/strict";
import { join } from "node:path";
import { openSafetensors, type TensorInfo, type TensorSource } from "../../src/io/safetensors.ts";
import { writeSafetensors } from "../../src/io/safetensors_writer.ts";
import { loadConfig, type ModelConfig, parseConfig } from "../../src/model/config.ts";
import {
  loadWeights,
  parameterSpecs,
  saveWeights,
  toHfTensors,
  WeightError,
} from "../../src/model/weights.ts";
import { tempFile } from "../_util/tmp.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const NAMES = ["bert_seq_cls", "bert_regression", "roberta_seq_cls", "electra_tok_cls"];

/** An in-memory TensorSource. */
function memory(tensors: Map<string, { shape: number[]; data: Float32Array }>): TensorSource {
  return {
    names: () => [...tensors.keys()],
    info: (n): TensorInfo => ({ dtype: "F32", shape: tensors.get(n)!.shape, start: 0, bytes: 0 }),
    get: (n) => Promise.resolve(tensors.get(n)!.data),
    close: () => {},
  };
}

async function fixtureTensors(name: string) {
  const src = await openSafetensors(join(FIXTURES, name));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const n of src.names()) out.set(n, { shape: src.info(n).shape, data: await src.get(n) });
  src.close();
  return out;
}

for (const name of NAMES) {
  Deno.test(`weights: ${name} loads every tensor, nothing missing or unexpected, and saves back bit-identical`, async () => {
    const cfg = await loadConfig(join(FIXTURES, name));
    const src = await openSafetensors(join(FIXTURES, name));
    const w = await loadWeights(cfg, src);
    src.close();
    assert.deepEqual([w.initialised, w.unexpected], [[], []]);
    // Every expected gradient has a parameter (the GPU test will compare them through this map).
    const grads = await openSafetensors(join(FIXTURES, name, "expected.safetensors"));
    const gradNames = grads.names().filter((n) => n.startsWith("grad.")).map((n) => n.slice(5)).sort();
    grads.close();
    const saved = toHfTensors(w.specs, w.params);
    assert.deepEqual(saved.map((t) => t.name).sort(), gradNames);
    const original = await fixtureTensors(name);
    for (const t of saved) {
      assert.deepEqual(t.shape, original.get(t.name)!.shape, t.name);
      assert.deepEqual(t.data, original.get(t.name)!.data, t.name);
    }
    const path = await tempFile(".safetensors");
    await saveWeights(path, w.specs, w.params);
    const back = await openSafetensors(path);
    for (const n of back.names()) assert.deepEqual(await back.get(n), original.get(n)!.data, n);
    back.close();
  });
}

Deno.test("weights: Q, K, V are fused row-wise into qkv (3C, C) and bias (3C)", async () => {
  const cfg = await loadConfig(join(FIXTURES, "bert_seq_cls"));
  const t = await fixtureTensors("bert_seq_cls");
  const w = await loadWeights(cfg, memory(t));
  const i = w.specs.findIndex((s) => s.name === "bert.encoder.layer.1.attention.self.qkv.weight");
  assert.deepEqual(w.specs[i].shape, [96, 32]);
  const C2 = 32 * 32;
  assert.deepEqual(
    w.params[i].subarray(0, C2),
    t.get("bert.encoder.layer.1.attention.self.query.weight")!.data,
  );
  assert.deepEqual(
    w.params[i].subarray(C2, 2 * C2),
    t.get("bert.encoder.layer.1.attention.self.key.weight")!.data,
  );
  assert.deepEqual(
    w.params[i + 1].subarray(64),
    t.get("bert.encoder.layer.1.attention.self.value.bias")!.data,
  );
  assert.equal(w.specs.length, 5 + 2 * 12 + 4);
});

Deno.test("weights: decay flags (none for biases and LayerNorm weights)", () => {
  const cfg = parseConfig({
    model_type: "bert",
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
  });
  for (const s of parameterSpecs(cfg)) {
    const noDecay = s.name.endsWith(".bias") || s.name.includes("LayerNorm");
    assert.equal(s.decay, !noDecay, s.name);
  }
});

function pretrained(cfg: ModelConfig, extraNames: [string, number[]][] = []) {
  // A pretraining checkpoint: encoder tensors only, under old names and without the model prefix.
  const m = new Map<string, { shape: number[]; data: Float32Array }>();
  for (
    const t of toHfTensors(
      parameterSpecs({ ...cfg, head: "none" }),
      parameterSpecs({ ...cfg, head: "none" }).map((s) =>
        new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(0.5)
      ),
    )
  ) {
    const n = t.name.replace(/^bert\./, "").replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(
      /LayerNorm\.bias$/,
      "LayerNorm.beta",
    );
    m.set(n, { shape: [...t.shape], data: new Float32Array(t.data) });
  }
  for (const [n, shape] of extraNames) {
    m.set(n, {
      shape,
      data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
    });
  }
  return m;
}

Deno.test("weights: a pretrained-only checkpoint gets a seeded head; buffers ignored, extras listed", async () => {
  const cfg = parseConfig({
    model_type: "bert",
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 5,
    vocab_size: 20,
    initializer_range: 0.5,
  }, { head: "sequence_classification", numLabels: 3 });
  const t = pretrained(cfg, [["embeddings.position_ids", [1, 512]], ["cls.seq_relationship.weight", [2, 8]]]);
  const w = await loadWeights(cfg, memory(t), { seed: 7 });
  assert.deepEqual(w.initialised, [
    "bert.pooler.dense.weight",
    "bert.pooler.dense.bias",
    "classifier.weight",
    "classifier.bias",
  ]);
  assert.deepEqual(w.unexpected, ["cls.seq_relationship.weight"]);
  const cw = w.params[w.specs.findIndex((s) => s.name === "classifier.weight")];
  const cb = w.params[w.specs.findIndex((s) => s.name === "classifier.bias")];
  assert.deepEqual(cb, new Float32Array(3));
  const mean = cw.reduce((a, b) => a + b, 0) / cw.length;
  const std = Math.sqrt(cw.reduce((a, b) => a + (b - mean) ** 2, 0) / cw.length);
  assert.ok(Math.abs(mean) < 0.25 && std > 0.3 && std < 0.7, `normal(0, 0.5)? mean ${mean}, std ${std}`);
  // Same seed, same head; another seed, another head.
  assert.deepEqual((await loadWeights(cfg, memory(t), { seed: 7 })).params, w.params);
  assert.notDeepEqual((await loadWeights(cfg, memory(t), { seed: 8 })).params.at(-2), cw);
  // The encoder came from the renamed tensors.
  assert.ok(w.params[3].every((v) => v === 0.5), "embeddings LayerNorm weight from LayerNorm.gamma");
});

Deno.test("weights: BERT masked-LM head; the tied decoder is not unexpected", async () => {
  const cfg = parseConfig({
    model_type: "bert",
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 5,
    vocab_size: 20,
    architectures: ["BertForMaskedLM"],
  });
  const t = pretrained(cfg, [["cls.predictions.decoder.weight", [20, 8]], ["cls.predictions.bias", [20]]]);
  const w = await loadWeights(cfg, memory(t));
  assert.deepEqual(w.unexpected, []);
  assert.deepEqual(w.initialised, [
    "cls.predictions.transform.dense.weight",
    "cls.predictions.transform.dense.bias",
    "cls.predictions.transform.LayerNorm.weight",
    "cls.predictions.transform.LayerNorm.bias",
  ]);
  const ln = w.params[w.specs.findIndex((s) => s.name === "cls.predictions.transform.LayerNorm.weight")];
  assert.ok(ln.every((v) => v === 1), "LayerNorm weight initialised to ones");
});

Deno.test("weights: missing encoder tensors and shape mismatches are errors naming the tensors", async () => {
  const cfg = await loadConfig(join(FIXTURES, "roberta_seq_cls"));
  const t = await fixtureTensors("roberta_seq_cls");
  t.delete("roberta.encoder.layer.1.output.dense.weight");
  t.delete("roberta.embeddings.LayerNorm.bias");
  await assert.rejects(() => loadWeights(cfg, memory(t)), (e) =>
    e instanceof WeightError &&
    e.message.includes("roberta.embeddings.LayerNorm.bias, roberta.encoder.layer.1.output.dense.weight"));

  const u = await fixtureTensors("roberta_seq_cls");
  u.set("classifier.out_proj.weight", { shape: [3, 32], data: new Float32Array(96) });
  await assert.rejects(() => loadWeights(cfg, memory(u)), (e) =>
    e instanceof WeightError &&
    e.message.startsWith(
      "tensor 'classifier.out_proj.weight': expected shape [2, 32], found [3, 32] (the task " +
        "head for 2 labels",
    ));
  // An encoder tensor of the wrong shape says nothing of labels.
  const v = await fixtureTensors("roberta_seq_cls");
  v.set("roberta.embeddings.LayerNorm.bias", { shape: [31], data: new Float32Array(31) });
  await assert.rejects(() => loadWeights(cfg, memory(v)), (e) =>
    e instanceof WeightError &&
    e.message === "tensor 'roberta.embeddings.LayerNorm.bias': expected shape [32], found [31]");
});

Deno.test("weights: ELECTRA with embedding_size == hidden_size has no embeddings_project", () => {
  const cfg = parseConfig({
    model_type: "electra",
    hidden_size: 16,
    embedding_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
  }, { head: "sequence_classification" });
  const names = parameterSpecs(cfg).map((s) => s.name);
  assert.ok(!names.some((n) => n.includes("embeddings_project")));
  assert.ok(names.includes("classifier.out_proj.weight") && names.includes("classifier.dense.bias"));
});

Deno.test("weights: saving writes a file transformers reads (F32, format pt)", async () => {
  const cfg = await loadConfig(join(FIXTURES, "electra_tok_cls"));
  const w = await loadWeights(cfg, memory(await fixtureTensors("electra_tok_cls")));
  const path = await tempFile(".safetensors");
  await writeSafetensors(path, toHfTensors(w.specs, w.params));
  const bytes = await Deno.readFile(path);
  const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  assert.deepEqual(header.__metadata__, { format: "pt" });
  assert.ok(
    Object.entries(header).every(([k, v]) =>
      k === "__metadata__" || (v as { dtype: string }).dtype === "F32"
    ),
  );
  assert.ok(
    "electra.embeddings_project.weight" in header &&
      "electra.encoder.layer.0.attention.self.key.bias" in header,
  );
});
