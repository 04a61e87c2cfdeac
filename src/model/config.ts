/**
 * Hugging Face `config.json` of BERT, RoBERTa and ELECTRA encoders: validated with zod, normalised into a
 * camelCase {@link ModelConfig} with the task head, and written back in a form transformers loads.
 * Missing fields take transformers' defaults for the model type.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";

/** One problem found in a config: the field, the value found and what was expected. */
export interface ConfigProblem {
  field: string;
  value: unknown;
  expected: string;
}

/** Raised for an unusable config; lists every problem found, each with field, value and expectation. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    super(
      `${file}: ${problems.length} problem${problems.length > 1 ? "s" : ""}:\n` +
        problems.map((p) => `  ${p.field} = ${JSON.stringify(p.value)}: expected ${p.expected}`).join("\n"),
    );
  }
}

/** Supported encoder families. */
export type ModelType = "bert" | "roberta" | "electra";
/** The task head on top of the encoder; `none` = encoder only (a pretrained checkpoint before fine-tuning). */
export type HeadKind =
  | "sequence_classification"
  | "regression"
  | "token_classification"
  | "masked_lm"
  | "none";
/** Activation of the feed-forward block: `gelu` (erf), `gelu_tanh` (tanh approximation) or `relu`. */
export type Activation = "gelu" | "gelu_tanh" | "relu";

/** A validated encoder config. */
export interface ModelConfig {
  modelType: ModelType;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  activation: Activation;
  /** The `hidden_act` string as found, written back unchanged. */
  hiddenAct: string;
  layerNormEps: number;
  maxPositionEmbeddings: number;
  /** Longest input the position table allows (RoBERTa's positions start at `padTokenId + 1`). */
  maxSequenceLength: number;
  typeVocabSize: number;
  vocabSize: number;
  padTokenId: number;
  /** Width of the embeddings: `hiddenSize` except ELECTRA's `embedding_size`. */
  embeddingSize: number;
  head: HeadKind;
  numLabels: number;
  /** Label names by id (`LABEL_i` when the config has none). */
  id2label: string[];
  hiddenDropout: number;
  attentionDropout: number;
  /** Dropout before the classifier; null means `hiddenDropout` (transformers' rule). */
  classifierDropout: number | null;
  initializerRange: number;
  architectures: string[];
  /** Fields not interpreted here (bos/eos ids, ELECTRA summary_*), kept for writing the config back. */
  extra: Record<string, unknown>;
}

/** Choices that override the config: the head and the labels of the task being fine-tuned. */
export interface ConfigOptions {
  /** Name used in error messages (default `config.json`). */
  file?: string;
  head?: HeadKind;
  /** Label names; sets `numLabels` and `id2label`. */
  labels?: string[];
  numLabels?: number;
}

const DEFAULTS = {
  bert: {
    vocab_size: 30522,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    pad_token_id: 0,
  },
  roberta: {
    vocab_size: 50265,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    pad_token_id: 1,
  },
  electra: {
    vocab_size: 30522,
    hidden_size: 256,
    num_hidden_layers: 12,
    num_attention_heads: 4,
    pad_token_id: 0,
  },
} as const;

const posInt = z.number().int().positive();
const prob = z.number().min(0).lt(1);
const schema = z.looseObject({
  model_type: z.enum(["bert", "roberta", "electra"]),
  vocab_size: posInt.optional(),
  hidden_size: posInt.optional(),
  num_hidden_layers: posInt.optional(),
  num_attention_heads: posInt.optional(),
  intermediate_size: posInt.optional(),
  embedding_size: posInt.optional(),
  hidden_act: z.enum(["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"]).default("gelu"),
  layer_norm_eps: z.number().positive().default(1e-12),
  max_position_embeddings: posInt.default(512),
  type_vocab_size: posInt.default(2),
  pad_token_id: z.number().int().nonnegative().optional(),
  num_labels: posInt.optional(),
  id2label: z.record(z.string().regex(/^\d+$/, "keys must be integers as strings"), z.string()).optional(),
  label2id: z.record(z.string(), z.number().int().nonnegative()).optional(),
  problem_type: z.enum(["single_label_classification", "regression"]).nullable().optional(),
  hidden_dropout_prob: prob.default(0.1),
  attention_probs_dropout_prob: prob.default(0.1),
  classifier_dropout: prob.nullable().default(null),
  initializer_range: z.number().positive().default(0.02),
  architectures: z.array(z.string()).nullable().optional(),
  position_embedding_type: z.literal("absolute").default("absolute"),
  is_decoder: z.literal(false).optional(),
  add_cross_attention: z.literal(false).optional(),
});

/** Fields this module interprets; the rest of the JSON goes to `extra`. */
const KNOWN = new Set([
  ...Object.keys(schema.shape),
  "transformers_version",
  "torch_dtype",
  "use_cache",
  "_name_or_path",
]);

const EXPECTED: Record<string, string> = {
  model_type: `one of "bert", "roberta", "electra"`,
  hidden_act: `one of "gelu" (erf), "gelu_new" or "gelu_pytorch_tanh" (tanh approximation), "relu"`,
  problem_type: `"single_label_classification" or "regression" (multi_label_classification is not supported)`,
  position_embedding_type: `"absolute" (relative position embeddings are not supported)`,
  is_decoder: "false (decoders are not supported)",
  add_cross_attention: "false (cross-attention is not supported)",
};

/**
 * zod's issues as {@link ConfigProblem}s: the field's path, the value found there, and `expected[top-level field]`
 * or else zod's own expectation.
 */
export function zodProblems(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  raw: Record<string, unknown>,
  expected: Record<string, string>,
): ConfigProblem[] {
  return issues.map((issue) => {
    const top = String(issue.path[0] ?? "(root)");
    let value: unknown = raw[top];
    for (const k of issue.path.slice(1)) value = (value as Record<PropertyKey, unknown>)?.[k];
    // zod's messages read "Too small: expected number to be >0"; keep what follows "expected".
    const zodText = issue.message.replace(/^[^:]*:\s*/, "").replace(/^expected\s+/, "");
    return { field: issue.path.map(String).join(".") || "(root)", value, expected: expected[top] ?? zodText };
  });
}

/** The head a transformers architecture name implies, or null for an encoder-only / pretraining class. */
function headOf(arch: string | undefined): HeadKind | null {
  if (!arch) return null;
  if (arch.endsWith("ForSequenceClassification")) return "sequence_classification";
  if (arch.endsWith("ForTokenClassification")) return "token_classification";
  if (arch.endsWith("ForMaskedLM")) return "masked_lm";
  return null;
}

/**
 * Validates a parsed config.json and normalises it; throws {@link ConfigError} listing every problem.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./src/model/config.ts";
 * const cfg = parseConfig({ model_type: "bert", hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4,
 *   intermediate_size: 37, architectures: ["BertForSequenceClassification"], id2label: { "0": "neg", "1": "pos" } });
 * console.log(cfg.head, cfg.numLabels, cfg.id2label); // sequence_classification 2 [ "neg", "pos" ]
 * ```
 */
export function parseConfig(json: unknown, options: ConfigOptions = {}): ModelConfig {
  const file = options.file ?? "config.json";
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError(file, [{ field: "(root)", value: json, expected: "a JSON object" }]);
  }
  const raw = json as Record<string, unknown>;
  const parsed = schema.safeParse(raw);
  const problems: ConfigProblem[] = [];
  if (!parsed.success) throw new ConfigError(file, zodProblems(parsed.error.issues, raw, EXPECTED));
  const c = parsed.data;
  const d = DEFAULTS[c.model_type];
  const hiddenSize = c.hidden_size ?? d.hidden_size;
  const numHeads = c.num_attention_heads ?? d.num_attention_heads;
  const vocabSize = c.vocab_size ?? d.vocab_size;
  const padTokenId = c.pad_token_id ?? d.pad_token_id;
  const add = (field: string, value: unknown, expected: string) => problems.push({ field, value, expected });
  if (hiddenSize % numHeads !== 0) {
    add("num_attention_heads", numHeads, `a divisor of hidden_size (${hiddenSize})`);
  }
  if (padTokenId >= vocabSize) add("pad_token_id", padTokenId, `less than vocab_size (${vocabSize})`);
  if (c.embedding_size !== undefined && c.model_type !== "electra" && c.embedding_size !== hiddenSize) {
    add("embedding_size", c.embedding_size, `equal to hidden_size (${hiddenSize}) for ${c.model_type}`);
  }

  // Labels: explicit options, else id2label (which transformers prefers), else num_labels, else 2.
  let id2label: string[];
  if (options.labels) id2label = [...options.labels];
  else if (c.id2label) {
    const keys = Object.keys(c.id2label).map(Number).sort((a, b) => a - b);
    if (keys.some((k, i) => k !== i)) add("id2label", c.id2label, "keys 0..n-1 without gaps");
    id2label = keys.map((k) => c.id2label![String(k)]);
    if (c.num_labels !== undefined && c.num_labels !== id2label.length) {
      add("num_labels", c.num_labels, `the number of id2label entries (${id2label.length})`);
    }
  } else {
    const n = options.numLabels ?? c.num_labels ?? 2;
    id2label = Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
  if (options.numLabels !== undefined && options.numLabels !== id2label.length) {
    add("num_labels", options.numLabels, `the number of labels given (${id2label.length})`);
  }
  if (!options.labels && c.label2id) {
    for (const [name, id] of Object.entries(c.label2id)) {
      if (id2label[id] !== name) add(`label2id.${name}`, id, `the id of '${name}' in id2label`);
    }
  }

  let head = options.head ?? headOf(c.architectures?.[0]) ?? "none";
  // transformers: a sequence classifier with one label and no problem_type is a regressor.
  if (head === "sequence_classification" && !options.head) {
    if (c.problem_type === "regression" || (!c.problem_type && id2label.length === 1)) head = "regression";
  }
  if (head === "masked_lm" && c.model_type !== "bert") {
    add("architectures", c.architectures, "a masked-LM head only for bert");
  }
  if (problems.length) throw new ConfigError(file, problems);

  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!KNOWN.has(k)) extra[k] = v;
  const maxPos = c.max_position_embeddings;
  return {
    modelType: c.model_type,
    hiddenSize,
    numLayers: c.num_hidden_layers ?? d.num_hidden_layers,
    numHeads,
    intermediateSize: c.intermediate_size ?? 4 * hiddenSize,
    activation: c.hidden_act === "gelu" ? "gelu" : c.hidden_act === "relu" ? "relu" : "gelu_tanh",
    hiddenAct: c.hidden_act,
    layerNormEps: c.layer_norm_eps,
    maxPositionEmbeddings: maxPos,
    maxSequenceLength: c.model_type === "roberta" ? maxPos - padTokenId - 1 : maxPos,
    typeVocabSize: c.type_vocab_size,
    vocabSize,
    padTokenId,
    embeddingSize: c.model_type === "electra" ? c.embedding_size ?? 128 : hiddenSize,
    head,
    numLabels: id2label.length,
    id2label,
    hiddenDropout: c.hidden_dropout_prob,
    attentionDropout: c.attention_probs_dropout_prob,
    classifierDropout: c.classifier_dropout,
    initializerRange: c.initializer_range,
    architectures: c.architectures ?? [],
    extra,
  };
}

/** Reads and validates `config.json` (a file, or the directory holding it). */
export async function loadConfig(path: string, options: ConfigOptions = {}): Promise<ModelConfig> {
  const file = path.endsWith(".json") ? path : `${path.replace(/\/$/, "")}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new ConfigError(file, [{
      field: "(file)",
      value: file,
      expected: `a readable file (${(e as Error).message})`,
    }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, [{
      field: "(root)",
      value: text.slice(0, 40),
      expected: `JSON (${(e as Error).message})`,
    }]);
  }
  return parseConfig(json, { ...options, file });
}

const CLASS_PREFIX: Record<ModelType, string> = { bert: "Bert", roberta: "Roberta", electra: "Electra" };
const HEAD_SUFFIX: Record<HeadKind, string> = {
  sequence_classification: "ForSequenceClassification",
  regression: "ForSequenceClassification",
  token_classification: "ForTokenClassification",
  masked_lm: "ForMaskedLM",
  none: "Model",
};

/**
 * A transformers-loadable config.json object for `cfg` (architectures from the head, id2label/label2id with
 * string keys, problem_type for sequence heads).
 */
export function configToJson(cfg: ModelConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...cfg.extra,
    architectures: [CLASS_PREFIX[cfg.modelType] + HEAD_SUFFIX[cfg.head]],
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    intermediate_size: cfg.intermediateSize,
    hidden_act: cfg.hiddenAct,
    hidden_dropout_prob: cfg.hiddenDropout,
    attention_probs_dropout_prob: cfg.attentionDropout,
    classifier_dropout: cfg.classifierDropout,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    type_vocab_size: cfg.typeVocabSize,
    initializer_range: cfg.initializerRange,
    layer_norm_eps: cfg.layerNormEps,
    pad_token_id: cfg.padTokenId,
    position_embedding_type: "absolute",
    id2label: Object.fromEntries(cfg.id2label.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(cfg.id2label.map((l, i) => [l, i])),
    torch_dtype: "float32",
    transformers_version: "4.46.0",
  };
  if (cfg.modelType === "electra") out.embedding_size = cfg.embeddingSize;
  if (cfg.head === "regression") out.problem_type = "regression";
  else if (cfg.head === "sequence_classification") out.problem_type = "single_label_classification";
  return out;
}
