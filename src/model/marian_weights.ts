/**
 * Marian's parameters under Hugging Face names: the trainable list (Q/K/V of each self-attention fused, K/V of
 * each cross-attention fused), loading from a checkpoint, the fixed buffers (sinusoidal positions,
 * `final_logits_bias`), and the tensors to save.
 *
 * The shared embedding `model.shared.weight` is also the encoder's and decoder's `embed_tokens` and the LM
 * head's weight; a checkpoint may hold it under any of those names. HF computes the sinusoidal position tables
 * itself; they are written back for completeness, and a table found in a checkpoint is checked against the
 * formula rather than trusted.
 *
 * @module
 */
import type { NamedTensor } from "../io/safetensors_writer.ts";
import type { TensorSource } from "../io/safetensors.ts";
import type { MarianConfig } from "./marian_config.ts";
import { type ParamSpec, toHfTensors, WeightError } from "./weights.ts";

/** The shared embedding's name, and the names a checkpoint may use for it instead (tied copies). */
export const SHARED = "model.shared.weight";
const SHARED_ALIASES = [
  "model.encoder.embed_tokens.weight",
  "model.decoder.embed_tokens.weight",
  "lm_head.weight",
];
const POSITIONS = ["model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight"];
const FINAL_BIAS = "final_logits_bias";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;

function linear(name: string, out: number, inp: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [out, inp], decay: true, head: false, init: "normal" },
    { name: `${name}.bias`, shape: [out], decay: false, head: false, init: "zeros" },
  ];
}

function fused(name: string, parts: string[], C: number): ParamSpec[] {
  const n = parts.length;
  return [
    {
      name: `${name}.weight`,
      shape: [n * C, C],
      decay: true,
      head: false,
      init: "normal",
      parts: parts.map((p) => `${p}.weight`),
    },
    {
      name: `${name}.bias`,
      shape: [n * C],
      decay: false,
      head: false,
      init: "zeros",
      parts: parts.map((p) => `${p}.bias`),
    },
  ];
}

function layerNorm(name: string, n: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [n], decay: false, head: false, init: "ones" },
    { name: `${name}.bias`, shape: [n], decay: false, head: false, init: "zeros" },
  ];
}

/** Parameter names of encoder layer `l`, in the shape the encoder layer code wants. */
export function marianEncoderNames(l: number) {
  const at = `model.encoder.layers.${l}.`;
  return {
    qkv: `${at}self_attn.qkv`,
    attnOut: `${at}self_attn.out_proj`,
    ln1: `${at}self_attn_layer_norm`,
    fc1: `${at}fc1`,
    fc2: `${at}fc2`,
    ln2: `${at}final_layer_norm`,
  };
}

/** Parameter names of decoder layer `l`. */
export function marianDecoderNames(l: number) {
  const at = `model.decoder.layers.${l}.`;
  return {
    qkv: `${at}self_attn.qkv`,
    attnOut: `${at}self_attn.out_proj`,
    ln1: `${at}self_attn_layer_norm`,
    crossQ: `${at}encoder_attn.q_proj`,
    crossKv: `${at}encoder_attn.kv`,
    crossOut: `${at}encoder_attn.out_proj`,
    ln2: `${at}encoder_attn_layer_norm`,
    fc1: `${at}fc1`,
    fc2: `${at}fc2`,
    ln3: `${at}final_layer_norm`,
  };
}

/** The trainable parameters of `cfg`, in processing order. */
export function marianParamSpecs(cfg: MarianConfig): ParamSpec[] {
  const C = cfg.hiddenSize;
  const specs: ParamSpec[] = [
    { name: SHARED, shape: [cfg.vocabSize, C], decay: true, head: false, init: "normal" },
  ];
  const proj = (at: string, names: string[]) => names.map((n) => `${at}${n}_proj`);
  for (let l = 0; l < cfg.encoderLayers; l++) {
    const n = marianEncoderNames(l);
    const at = `model.encoder.layers.${l}.self_attn.`;
    specs.push(
      ...fused(n.qkv, proj(at, ["q", "k", "v"]), C),
      ...linear(n.attnOut, C, C),
      ...layerNorm(n.ln1, C),
      ...linear(n.fc1, cfg.encoderFfn, C),
      ...linear(n.fc2, C, cfg.encoderFfn),
      ...layerNorm(n.ln2, C),
    );
  }
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const n = marianDecoderNames(l);
    const self = `model.decoder.layers.${l}.self_attn.`;
    const cross = `model.decoder.layers.${l}.encoder_attn.`;
    specs.push(
      ...fused(n.qkv, proj(self, ["q", "k", "v"]), C),
      ...linear(n.attnOut, C, C),
      ...layerNorm(n.ln1, C),
      ...linear(n.crossQ, C, C),
      ...fused(n.crossKv, proj(cross, ["k", "v"]), C),
      ...linear(n.crossOut, C, C),
      ...layerNorm(n.ln2, C),
      ...linear(n.fc1, cfg.decoderFfn, C),
      ...linear(n.fc2, C, cfg.decoderFfn),
      ...layerNorm(n.ln3, C),
    );
  }
  return specs;
}

/**
 * HF's `MarianSinusoidalPositionalEmbedding` table (P, C): column k < C/2 is sin(pos / 10000^(2k/C)), column
 * C/2 + k is cos of the same angle (computed in float64, as HF does with numpy, then rounded to f32).
 */
export function sinusoidalPositions(P: number, C: number): Float32Array {
  const out = new Float32Array(P * C);
  const half = C % 2 === 0 ? C / 2 : (C + 1) / 2;
  for (let pos = 0; pos < P; pos++) {
    for (let j = 0; j < C; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / C);
      // Even j feed the sin half (column j / 2), odd j the cos half (column half + (j - 1) / 2).
      if (j % 2 === 0) out[pos * C + j / 2] = Math.sin(angle);
      else out[pos * C + half + (j - 1) / 2] = Math.cos(angle);
    }
  }
  return out;
}

/** Parameters and buffers read from a checkpoint. */
export interface MarianWeights {
  specs: ParamSpec[];
  params: Float32Array[];
  /** `final_logits_bias` (V): zeros when the checkpoint has none. */
  finalLogitsBias: Float32Array;
  /** Checkpoint tensors that map to nothing. */
  unexpected: string[];
}

/**
 * Loads every parameter of `cfg` from `source`, fusing Q/K/V; throws {@link WeightError} naming the tensor for a
 * shape mismatch, and listing the missing tensors.
 */
export async function loadMarianWeights(
  cfg: MarianConfig,
  source: TensorSource,
): Promise<MarianWeights> {
  const specs = marianParamSpecs(cfg);
  const names = new Set(source.names());
  const used = new Set<string>();
  const read = async (name: string, shape: readonly number[]): Promise<Float32Array> => {
    const found = source.info(name).shape;
    if (
      size(found) !== size(shape) || (found.length === shape.length && found.some((d, i) => d !== shape[i]))
    ) {
      throw new WeightError(`tensor '${name}': expected shape ${fmt(shape)}, found ${fmt(found)}`);
    }
    used.add(name);
    return await source.get(name);
  };
  const params: Float32Array[] = [];
  const missing: string[] = [];
  for (const spec of specs) {
    let parts = spec.parts ?? [spec.name];
    if (spec.name === SHARED && !names.has(SHARED)) {
      parts = [SHARED_ALIASES.find((n) => names.has(n)) ?? SHARED];
    }
    const partShape = spec.parts ? [spec.shape[0] / parts.length, ...spec.shape.slice(1)] : spec.shape;
    const absent = parts.filter((n) => !names.has(n));
    if (absent.length) {
      missing.push(...absent);
      continue;
    }
    const out = new Float32Array(size(spec.shape));
    for (const [k, n] of parts.entries()) out.set(await read(n, partShape), k * size(partShape));
    params.push(out);
  }
  if (missing.length) {
    const shown = missing.slice(0, 8).join(", ") +
      (missing.length > 8 ? `, ... (${missing.length} in all)` : "");
    throw new WeightError(`checkpoint lacks tensors of the marian config: ${shown}`);
  }
  const V = cfg.vocabSize;
  const finalLogitsBias = names.has(FINAL_BIAS) ? await read(FINAL_BIAS, [1, V]) : new Float32Array(V);
  const table = sinusoidalPositions(cfg.maxPositionEmbeddings, cfg.hiddenSize);
  for (const n of POSITIONS) {
    if (!names.has(n)) continue;
    const stored = await read(n, [cfg.maxPositionEmbeddings, cfg.hiddenSize]);
    const worst = stored.reduce((m, x, i) => Math.max(m, Math.abs(x - table[i])), 0);
    if (worst > 1e-5) {
      throw new WeightError(
        `tensor '${n}': not the sinusoidal table Marian uses (differs by ${
          worst.toExponential(2)
        }); learned ` +
          "position embeddings are not supported",
      );
    }
  }
  // Tied copies of the shared embedding are not separate tensors.
  for (const n of SHARED_ALIASES) if (names.has(n)) used.add(n);
  const unexpected = [...names].filter((n) => !used.has(n));
  return { specs, params, finalLogitsBias, unexpected };
}

/** The tensors of a Marian checkpoint under HF names: parameters (Q/K/V split back), positions, logits bias. */
export function marianHfTensors(
  cfg: MarianConfig,
  specs: readonly ParamSpec[],
  params: readonly Float32Array[],
  finalLogitsBias: Float32Array,
): NamedTensor[] {
  const P = cfg.maxPositionEmbeddings;
  const C = cfg.hiddenSize;
  const table = sinusoidalPositions(P, C);
  return [
    ...toHfTensors(specs, params),
    ...POSITIONS.map((name) => ({ name, shape: [P, C], data: table })),
    { name: FINAL_BIAS, shape: [1, cfg.vocabSize], data: finalLogitsBias },
  ];
}
