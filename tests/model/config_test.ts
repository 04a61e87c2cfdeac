import assert from "node:assert/strict";
import { ConfigError, configToJson, loadConfig, parseConfig } from "../../src/model/config.ts";
import { tempDir } from "../_util/tmp.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const TINY = {
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 37,
  vocab_size: 100,
};

function configError(json: unknown, options = {}): ConfigError {
  try {
    parseConfig(json, { file: "ckpt/config.json", ...options });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.ok(e.message.startsWith("ckpt/config.json: "), e.message);
    return e;
  }
  throw new Error("parseConfig accepted the config");
}

Deno.test("config: every fixture parses with the head its architecture implies", async () => {
  const bert = await loadConfig(`${FIXTURES}bert_seq_cls`);
  assert.equal(bert.head, "sequence_classification");
  assert.deepEqual(bert.id2label, ["negative", "neutral", "positive"]);
  assert.equal(bert.activation, "gelu");
  assert.equal(bert.embeddingSize, 32);
  assert.equal(bert.maxSequenceLength, 64);

  const reg = await loadConfig(`${FIXTURES}bert_regression`);
  assert.deepEqual([reg.head, reg.numLabels, reg.activation], ["regression", 1, "relu"]);

  const roberta = await loadConfig(`${FIXTURES}roberta_seq_cls`);
  assert.deepEqual([roberta.padTokenId, roberta.typeVocabSize, roberta.activation], [1, 1, "gelu_tanh"]);
  assert.equal(roberta.maxSequenceLength, 64); // 66 positions, first real one at pad + 1 = 2
  assert.deepEqual(roberta.extra, { bos_token_id: 0, eos_token_id: 2 });

  const electra = await loadConfig(`${FIXTURES}electra_tok_cls`);
  assert.deepEqual([electra.head, electra.embeddingSize, electra.hiddenSize], [
    "token_classification",
    16,
    32,
  ]);
  assert.equal(electra.numLabels, 5);
});

Deno.test("config: transformers' defaults and head choice", () => {
  const c = parseConfig({ model_type: "roberta" });
  assert.deepEqual(
    [
      c.hiddenSize,
      c.numLayers,
      c.numHeads,
      c.intermediateSize,
      c.vocabSize,
      c.padTokenId,
      c.head,
      c.numLabels,
    ],
    [768, 12, 12, 3072, 50265, 1, "none", 2],
  );
  assert.equal(c.layerNormEps, 1e-12);
  assert.equal(parseConfig({ model_type: "electra" }).embeddingSize, 128);
  // One label and no problem_type: transformers treats it as regression.
  assert.equal(
    parseConfig({ model_type: "bert", architectures: ["BertForSequenceClassification"], num_labels: 1 }).head,
    "regression",
  );
  // Explicit options override: a pretrained checkpoint fine-tuned for 4-way token classification.
  const t = parseConfig({ model_type: "bert", architectures: ["BertForMaskedLM"] }, {
    head: "token_classification",
    labels: ["O", "B", "I", "X"],
  });
  assert.deepEqual([t.head, t.numLabels, t.id2label[3]], ["token_classification", 4, "X"]);
  assert.equal(parseConfig({ model_type: "bert", architectures: ["BertForMaskedLM"] }).head, "masked_lm");
  assert.equal(parseConfig({ model_type: "bert", hidden_act: "gelu_pytorch_tanh" }).activation, "gelu_tanh");
});

Deno.test("config: rejects unsupported features naming field and value", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ model_type: "gpt2" }, `model_type = "gpt2": expected one of "bert", "roberta", "electra"`],
    [
      { model_type: "bert", position_embedding_type: "relative_key" },
      `position_embedding_type = "relative_key"`,
    ],
    [{ model_type: "bert", is_decoder: true }, "is_decoder = true: expected false"],
    [{ model_type: "bert", add_cross_attention: true }, "add_cross_attention = true"],
    [
      { model_type: "bert", problem_type: "multi_label_classification" },
      "multi_label_classification is not supported",
    ],
    [{ model_type: "bert", hidden_act: "swish" }, `hidden_act = "swish"`],
    [
      { model_type: "bert", hidden_size: 30, num_attention_heads: 4 },
      "num_attention_heads = 4: expected a divisor of hidden_size (30)",
    ],
    [{ model_type: "bert", hidden_dropout_prob: 1.5 }, "hidden_dropout_prob = 1.5"],
    [{ model_type: "bert", id2label: { "0": "a", "2": "b" } }, "id2label"],
    [{ model_type: "bert", id2label: { "0": "a", "1": "b" }, num_labels: 3 }, "num_labels = 3"],
    [{ model_type: "bert", id2label: { "0": "a", "1": "b" }, label2id: { a: 1, b: 0 } }, "label2id.a = 1"],
    [
      { model_type: "bert", pad_token_id: 200, vocab_size: 100 },
      "pad_token_id = 200: expected less than vocab_size (100)",
    ],
    [{ model_type: "roberta", architectures: ["RobertaForMaskedLM"] }, "a masked-LM head only for bert"],
  ];
  for (const [json, text] of cases) {
    const e = configError(json);
    assert.ok(e.message.includes(text), `'${e.message}' lacks '${text}'`);
  }
});

Deno.test("config: several problems are listed in one error", () => {
  const e = configError({ model_type: "bert", hidden_size: -1, is_decoder: true, layer_norm_eps: "x" });
  assert.deepEqual(e.problems.map((p) => p.field).sort(), ["hidden_size", "is_decoder", "layer_norm_eps"]);
  assert.ok(e.message.includes("3 problems"), e.message);
  assert.ok(e.message.includes("hidden_size = -1"), e.message);
});

Deno.test("config: configToJson round-trips through parseConfig and has transformers' fields", async () => {
  for (const name of ["bert_seq_cls", "bert_regression", "roberta_seq_cls", "electra_tok_cls"]) {
    const cfg = await loadConfig(`${FIXTURES}${name}`);
    const json = configToJson(cfg);
    assert.deepEqual(parseConfig(JSON.parse(JSON.stringify(json))), cfg, name);
    const original = JSON.parse(await Deno.readTextFile(`${FIXTURES}${name}/config.json`));
    for (const key of ["architectures", "model_type", "id2label", "label2id", "hidden_act", "pad_token_id"]) {
      assert.deepEqual(json[key], original[key], `${name}: ${key}`);
    }
    assert.equal(json.transformers_version, "4.46.0");
  }
  const tok = configToJson(
    parseConfig({ ...TINY, model_type: "electra" }, { head: "token_classification", labels: ["O", "PER"] }),
  );
  assert.deepEqual(tok.architectures, ["ElectraForTokenClassification"]);
  assert.deepEqual(tok.id2label, { "0": "O", "1": "PER" });
  assert.deepEqual(tok.label2id, { O: 0, PER: 1 });
  assert.equal(tok.problem_type, undefined);
});

Deno.test("config: an unreadable or non-JSON file is a ConfigError naming it", async () => {
  const dir = await tempDir();
  await assert.rejects(
    () => loadConfig(dir),
    (e) => e instanceof ConfigError && e.file === `${dir}/config.json`,
  );
  await Deno.writeTextFile(`${dir}/config.json`, "{oops");
  await assert.rejects(
    () => loadConfig(dir),
    (e) => e instanceof ConfigError && /expected JSON/.test(e.message),
  );
});
