/**
 * Hugging Face `config.json` of Marian / OPUS-MT translation models (`MarianMTModel`): validated with zod,
 * normalised into a camelCase {@link MarianConfig}, and written back unchanged in the fields it does not
 * interpret. Missing fields take transformers' `MarianConfig` defaults.
 *
 * Supported: post-LayerNorm encoder and decoder (Marian's only layout), sinusoidal positions, the embedding
 * shared by encoder, decoder and LM head (`share_encoder_decoder_embeddings`, `tie_word_embeddings`), the
 * `final_logits_bias` buffer, activations swish/silu, gelu, gelu_new, relu. Refused with a {@link ConfigError}:
 * separate decoder vocabularies, untied LM heads and `activation_dropout` > 0.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import type { Activation as KernelActivation } from "../kernels/activation.ts";
import { ConfigError, type ConfigProblem, zodProblems } from "./config.ts";

/** A validated Marian config. */
export interface MarianConfig {
  modelType: "marian";
  vocabSize: number;
  /** d_model. */
  hiddenSize: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  encoderFfn: number;
  decoderFfn: number;
  /** The kernel activation of `activation_function`. */
  activation: KernelActivation;
  maxPositionEmbeddings: number;
  /** Word embeddings are multiplied by sqrt(d_model) (`scale_embedding`). */
  scaleEmbedding: boolean;
  padTokenId: number;
  eosTokenId: number;
  /** Token generation emits at its last allowed step (`forced_eos_token_id`), or null. */
  forcedEosTokenId: number | null;
  decoderStartTokenId: number;
  /** Hidden dropout (`dropout`). */
  dropout: number;
  attentionDropout: number;
  /** Token ids generation never emits (`bad_words_ids`, flattened single-token entries; pad by default). */
  badWordIds: number[];
  /** Beams of generation (`num_beams`, default 1: greedy). */
  numBeams: number;
  /** transformers' `max_length` for generation (default 512). */
  maxLength: number;
  initStd: number;
  /** nn.LayerNorm's eps (Marian does not configure it). */
  layerNormEps: number;
  /** The whole JSON as found, written back with the interpreted fields updated. */
  raw: Record<string, unknown>;
}

const posInt = z.number().int().positive();
const nonNeg = z.number().int().nonnegative();
const prob = z.number().min(0).lt(1);
const ACTIVATIONS: Record<string, KernelActivation> = {
  swish: "silu",
  silu: "silu",
  gelu: "gelu",
  gelu_new: "gelu_new",
  gelu_pytorch_tanh: "gelu_new",
  relu: "relu",
};

const schema = z.looseObject({
  model_type: z.literal("marian"),
  vocab_size: posInt.default(58101),
  decoder_vocab_size: posInt.nullable().optional(),
  d_model: posInt.default(1024),
  encoder_layers: posInt.default(12),
  decoder_layers: posInt.default(12),
  encoder_attention_heads: posInt.default(16),
  decoder_attention_heads: posInt.default(16),
  encoder_ffn_dim: posInt.default(4096),
  decoder_ffn_dim: posInt.default(4096),
  activation_function: z.enum(Object.keys(ACTIVATIONS) as [string, ...string[]]).default("gelu"),
  max_position_embeddings: posInt.default(1024),
  scale_embedding: z.boolean().default(false),
  pad_token_id: nonNeg.default(58100),
  eos_token_id: nonNeg.default(0),
  forced_eos_token_id: nonNeg.nullable().default(0),
  decoder_start_token_id: nonNeg.default(58100),
  dropout: prob.default(0.1),
  attention_dropout: prob.default(0),
  activation_dropout: z.literal(0).default(0),
  share_encoder_decoder_embeddings: z.literal(true).default(true),
  tie_word_embeddings: z.literal(true).default(true),
  normalize_before: z.literal(false).optional(),
  bad_words_ids: z.array(z.array(nonNeg)).nullable().optional(),
  max_length: posInt.default(512),
  num_beams: posInt.default(1),
  init_std: z.number().positive().default(0.02),
});

const EXPECTED: Record<string, string> = {
  activation_function: `one of ${Object.keys(ACTIVATIONS).map((a) => `"${a}"`).join(", ")}`,
  activation_dropout: "0 (activation dropout is not supported)",
  share_encoder_decoder_embeddings: "true (separate source and target embeddings are not supported)",
  tie_word_embeddings: "true (an LM head untied from the embeddings is not supported)",
  normalize_before: "false (Marian's layers are post-LayerNorm)",
};

/** Whether a parsed config.json object is a Marian config (`model_type: "marian"`). */
export function isMarianJson(json: unknown): boolean {
  return typeof json === "object" && json !== null &&
    (json as Record<string, unknown>).model_type === "marian";
}

/**
 * Validates a parsed Marian config.json; throws {@link ConfigError} listing every problem (field, value,
 * expectation).
 *
 * @example
 * ```ts
 * import { parseMarianConfig } from "./src/model/marian_config.ts";
 * const cfg = parseMarianConfig({ model_type: "marian", d_model: 16, encoder_layers: 2, decoder_layers: 2,
 *   encoder_attention_heads: 4, decoder_attention_heads: 4, vocab_size: 40, pad_token_id: 39,
 *   decoder_start_token_id: 39, activation_function: "swish" });
 * console.log(cfg.activation, cfg.badWordIds); // silu [ 39 ]
 * ```
 */
export function parseMarianConfig(json: unknown, file = "config.json"): MarianConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError(file, [{ field: "(root)", value: json, expected: "a JSON object" }]);
  }
  const raw = json as Record<string, unknown>;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(file, zodProblems(parsed.error.issues, raw, EXPECTED));
  const problems: ConfigProblem[] = [];
  const c = parsed.data;
  const add = (field: string, value: unknown, expected: string) => problems.push({ field, value, expected });
  if (c.decoder_vocab_size != null && c.decoder_vocab_size !== c.vocab_size) {
    add("decoder_vocab_size", c.decoder_vocab_size, `vocab_size (${c.vocab_size}): one shared vocabulary`);
  }
  for (const f of ["encoder_attention_heads", "decoder_attention_heads"] as const) {
    if (c.d_model % c[f] !== 0) add(f, c[f], `a divisor of d_model (${c.d_model})`);
  }
  for (
    const f of ["pad_token_id", "eos_token_id", "decoder_start_token_id", "forced_eos_token_id"] as const
  ) {
    if (c[f] !== null && c[f] >= c.vocab_size) add(f, c[f], `less than vocab_size (${c.vocab_size})`);
  }
  const bad = (c.bad_words_ids ?? [[c.pad_token_id]]).filter((w) => w.length === 1).map((w) => w[0]);
  for (const id of bad) if (id >= c.vocab_size) add("bad_words_ids", c.bad_words_ids, "ids below vocab_size");
  if (problems.length) throw new ConfigError(file, problems);
  return {
    modelType: "marian",
    vocabSize: c.vocab_size,
    hiddenSize: c.d_model,
    encoderLayers: c.encoder_layers,
    decoderLayers: c.decoder_layers,
    encoderHeads: c.encoder_attention_heads,
    decoderHeads: c.decoder_attention_heads,
    encoderFfn: c.encoder_ffn_dim,
    decoderFfn: c.decoder_ffn_dim,
    activation: ACTIVATIONS[c.activation_function],
    maxPositionEmbeddings: c.max_position_embeddings,
    scaleEmbedding: c.scale_embedding,
    padTokenId: c.pad_token_id,
    eosTokenId: c.eos_token_id,
    forcedEosTokenId: c.forced_eos_token_id,
    decoderStartTokenId: c.decoder_start_token_id,
    dropout: c.dropout,
    attentionDropout: c.attention_dropout,
    badWordIds: bad,
    maxLength: c.max_length,
    numBeams: c.num_beams,
    initStd: c.init_std,
    layerNormEps: 1e-5,
    raw: { ...raw },
  };
}

/** Whether `dir/config.json` is a Marian config (a missing or unreadable file is left to the usual errors). */
export async function isMarianCheckpoint(dir: string): Promise<boolean> {
  try {
    return isMarianJson(JSON.parse(await Deno.readTextFile(`${dir}/config.json`)));
  } catch {
    return false;
  }
}

/** Reads and validates a Marian `config.json`. */
export async function loadMarianConfig(path: string): Promise<MarianConfig> {
  const file = path.endsWith(".json") ? path : `${path.replace(/\/$/, "")}/config.json`;
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new ConfigError(file, [{
      field: "(file)",
      value: file,
      expected: `readable JSON (${(e as Error).message})`,
    }]);
  }
  return parseMarianConfig(json, file);
}

/** The config.json object to save with a fine-tuned Marian model (the original fields, float32 weights). */
export function marianConfigToJson(cfg: MarianConfig): Record<string, unknown> {
  return { ...cfg.raw, architectures: ["MarianMTModel"], model_type: "marian", torch_dtype: "float32" };
}
