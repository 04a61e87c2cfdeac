/**
 * A new, randomly initialised BERT checkpoint directory in the Hugging Face layout (config.json,
 * model.safetensors, vocab.txt + tokenizer.json): what training from scratch (and every end-to-end test)
 * starts from. Weights follow transformers' `_init_weights`: normal(0, initializer_range) for dense and
 * embedding weights (the padding row zero), zeros for biases, ones for LayerNorm weights.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";
import { configToJson, type HeadKind, parseConfig } from "./config.ts";
import { wordPieceTokenizerJson } from "./tokenizer_json.ts";
import { initParameter, parameterSpecs, saveWeights } from "./weights.ts";

/** Sizes and labels of a scratch model. */
export interface ScratchOptions {
  /** WordPiece vocabulary, ids in order; must contain [PAD] [UNK] [CLS] [SEP] [MASK]. */
  vocab: readonly string[];
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  head: HeadKind;
  /** Class names (classification heads). */
  labels?: string[];
  seed: number;
  hiddenAct?: "gelu" | "gelu_new" | "relu";
  dropout?: number;
}

/** Writes a scratch BERT checkpoint into `dir`. */
export async function createScratchModel(dir: string, o: ScratchOptions): Promise<void> {
  const pad = o.vocab.indexOf("[PAD]");
  if (pad < 0) throw new Error("scratch model: the vocabulary has no [PAD] token");
  const arch = {
    sequence_classification: "BertForSequenceClassification",
    regression: "BertForSequenceClassification",
    token_classification: "BertForTokenClassification",
    masked_lm: "BertForMaskedLM",
    none: "BertModel",
  }[o.head];
  const json: Record<string, unknown> = {
    model_type: "bert",
    architectures: [arch],
    vocab_size: o.vocab.length,
    hidden_size: o.hiddenSize,
    num_hidden_layers: o.numLayers,
    num_attention_heads: o.numHeads,
    intermediate_size: o.intermediateSize,
    hidden_act: o.hiddenAct ?? "gelu",
    hidden_dropout_prob: o.dropout ?? 0.1,
    attention_probs_dropout_prob: o.dropout ?? 0.1,
    max_position_embeddings: o.maxPositions,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: pad,
  };
  if (o.labels) json.id2label = Object.fromEntries(o.labels.map((l, i) => [String(i), l]));
  if (o.head === "regression") json.num_labels = 1;
  const cfg = parseConfig(json, { head: o.head, ...(o.labels ? { labels: o.labels } : {}) });
  const specs = parameterSpecs(cfg);
  const params = specs.map((s, i) => initParameter(s, cfg, o.seed, i));
  // nn.Embedding(padding_idx=pad) starts with the padding row at zero.
  const wte = specs.findIndex((s) => s.name.endsWith("embeddings.word_embeddings.weight"));
  params[wte].fill(0, pad * cfg.embeddingSize, (pad + 1) * cfg.embeddingSize);
  await Deno.mkdir(dir, { recursive: true });
  await saveWeights(`${dir}/model.safetensors`, specs, params);
  await writeFileAtomic(`${dir}/config.json`, JSON.stringify(configToJson(cfg), null, 2) + "\n");
  const tokConfig = {
    do_lower_case: true,
    model_max_length: o.maxPositions,
    tokenizer_class: "BertTokenizer",
  };
  await writeFileAtomic(`${dir}/vocab.txt`, o.vocab.join("\n") + "\n");
  await writeFileAtomic(`${dir}/tokenizer_config.json`, JSON.stringify(tokConfig, null, 2) + "\n");
  await writeFileAtomic(
    `${dir}/tokenizer.json`,
    JSON.stringify(wordPieceTokenizerJson(o.vocab, tokConfig)) + "\n",
  );
}
