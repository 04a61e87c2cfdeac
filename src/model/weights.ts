/**
 * THE map between Hugging Face tensor names and the model's parameter list, with a shape check per tensor.
 *
 * The parameter list is in processing order (embeddings, layers, head). Every parameter keeps its Hugging Face
 * name and layout (nn.Linear weights are (out, in)), except the fused attention projection of each layer:
 * `<prefix>encoder.layer.<l>.attention.self.qkv.weight` (3C, C) = rows of query, key, value weights (each (C, C))
 * and `...qkv.bias` (3C) = query, key, value biases; it is split back on save. Legend: C hidden size, E
 * embedding size (ELECTRA; C elsewhere), I intermediate size, V vocabulary, P positions, L labels.
 *
 * @module
 */
import type { TensorSource } from "../io/safetensors.ts";
import { type NamedTensor, writeSafetensors } from "../io/safetensors_writer.ts";
import { Purpose, randUniform, streamId } from "../reference/random.ts";
import type { ModelConfig } from "./config.ts";

/** Raised for a checkpoint that does not fit the config: missing encoder tensors or a wrong shape. */
export class WeightError extends Error {
  override name = "WeightError";
}

/** One trainable parameter. */
export interface ParamSpec {
  /** Hugging Face name (for the fused Q/K/V tensors, the synthetic `...attention.self.qkv.*`). */
  name: string;
  shape: number[];
  /** Whether AdamW's weight decay applies (not to biases and LayerNorm weights). */
  decay: boolean;
  /** Part of the task head (or BERT's pooler): initialised when a checkpoint lacks it. */
  head: boolean;
  /** Initial values when initialised: normal(0, initializer_range), zeros or ones. */
  init: "normal" | "zeros" | "ones";
  /** Hugging Face tensors concatenated along dim 0 into this parameter, when fused. */
  parts?: string[];
}

/** Result of {@link loadWeights}: one array per spec, in spec order. */
export interface LoadedWeights {
  specs: ParamSpec[];
  params: Float32Array[];
  /** Head tensors the checkpoint lacked, initialised from the seed. */
  initialised: string[];
  /** Checkpoint tensors that map to no parameter (e.g. a pretraining head), not loaded. */
  unexpected: string[];
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function linear(name: string, out: number, inp: number, head = false): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [out, inp], decay: true, head, init: "normal" },
    { name: `${name}.bias`, shape: [out], decay: false, head, init: "zeros" },
  ];
}

function layerNorm(name: string, n: number, head = false): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [n], decay: false, head, init: "ones" },
    { name: `${name}.bias`, shape: [n], decay: false, head, init: "zeros" },
  ];
}

/**
 * The parameter list of `cfg` (encoder and head) in processing order.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./src/model/config.ts";
 * import { parameterSpecs } from "./src/model/weights.ts";
 * const cfg = parseConfig({ model_type: "bert", hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2,
 *   intermediate_size: 16, vocab_size: 10, architectures: ["BertForTokenClassification"], num_labels: 3 });
 * console.log(parameterSpecs(cfg).map((p) => p.name).at(4)); // bert.embeddings.LayerNorm.bias
 * ```
 */
export function parameterSpecs(cfg: ModelConfig): ParamSpec[] {
  const { hiddenSize: C, embeddingSize: E, intermediateSize: I, numLabels: L } = cfg;
  const p = `${cfg.modelType}.`;
  const specs: ParamSpec[] = [
    {
      name: `${p}embeddings.word_embeddings.weight`,
      shape: [cfg.vocabSize, E],
      decay: true,
      head: false,
      init: "normal",
    },
    {
      name: `${p}embeddings.position_embeddings.weight`,
      shape: [cfg.maxPositionEmbeddings, E],
      decay: true,
      head: false,
      init: "normal",
    },
    {
      name: `${p}embeddings.token_type_embeddings.weight`,
      shape: [cfg.typeVocabSize, E],
      decay: true,
      head: false,
      init: "normal",
    },
    ...layerNorm(`${p}embeddings.LayerNorm`, E),
  ];
  if (E !== C) specs.push(...linear(`${p}embeddings_project`, C, E));
  for (let l = 0; l < cfg.numLayers; l++) {
    const at = `${p}encoder.layer.${l}.`;
    const qkv = ["query", "key", "value"].map((x) => `${at}attention.self.${x}`);
    specs.push(
      {
        name: `${at}attention.self.qkv.weight`,
        shape: [3 * C, C],
        decay: true,
        head: false,
        init: "normal",
        parts: qkv.map((x) => `${x}.weight`),
      },
      {
        name: `${at}attention.self.qkv.bias`,
        shape: [3 * C],
        decay: false,
        head: false,
        init: "zeros",
        parts: qkv.map((x) => `${x}.bias`),
      },
      ...linear(`${at}attention.output.dense`, C, C),
      ...layerNorm(`${at}attention.output.LayerNorm`, C),
      ...linear(`${at}intermediate.dense`, I, C),
      ...linear(`${at}output.dense`, C, I),
      ...layerNorm(`${at}output.LayerNorm`, C),
    );
  }
  switch (cfg.head) {
    case "sequence_classification":
    case "regression":
      if (cfg.modelType === "bert") {
        specs.push(...linear("bert.pooler.dense", C, C, true), ...linear("classifier", L, C, true));
      } else {specs.push(
          ...linear("classifier.dense", C, C, true),
          ...linear("classifier.out_proj", L, C, true),
        );}
      break;
    case "token_classification":
      specs.push(...linear("classifier", L, C, true));
      break;
    case "masked_lm":
      // The decoder weight is tied to the word embeddings; only its bias is a parameter of its own.
      specs.push(
        ...linear("cls.predictions.transform.dense", C, C, true),
        ...layerNorm("cls.predictions.transform.LayerNorm", C, true),
        { name: "cls.predictions.bias", shape: [cfg.vocabSize], decay: false, head: true, init: "zeros" },
      );
      break;
    case "none":
      break;
  }
  return specs;
}

/**
 * The name a checkpoint tensor has in the parameter list: adds the model prefix to bare base-model names,
 * renames old `LayerNorm.gamma`/`beta`; null for buffers and tied copies that are not parameters.
 */
export function canonicalName(cfg: ModelConfig, name: string): string | null {
  if (name.endsWith(".position_ids") || name.endsWith("embeddings.token_type_ids")) return null;
  if (cfg.head === "masked_lm" && name.startsWith("cls.predictions.decoder.")) return null;
  let n = name.replace(/LayerNorm\.gamma$/, "LayerNorm.weight").replace(/LayerNorm\.beta$/, "LayerNorm.bias");
  if (/^(embeddings|encoder|pooler|embeddings_project)\./.test(n)) n = `${cfg.modelType}.${n}`;
  return n;
}

/** Seeded initial values of one parameter (index `index` in the spec list): HF's normal/zeros/ones init. */
export function initParameter(spec: ParamSpec, cfg: ModelConfig, seed: number, index: number): Float32Array {
  return initValues(spec, cfg.initializerRange, seed, index);
}

/** Seeded initial values of one parameter: normal(0, `std`) from stream (index, init), zeros or ones. */
export function initValues(spec: ParamSpec, std: number, seed: number, index: number): Float32Array {
  const out = new Float32Array(size(spec.shape));
  if (spec.init === "ones") out.fill(1);
  if (spec.init !== "normal") return out;
  const stream = streamId(0, index, Purpose.init);
  for (let i = 0; i < out.length; i++) {
    const u1 = 1 - randUniform(seed, stream, 2 * i);
    const u2 = randUniform(seed, stream, 2 * i + 1);
    out[i] = std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * Loads every parameter of `cfg` from a checkpoint: checks each tensor's shape, fuses Q/K/V, initialises
 * missing head tensors from `seed` (listed in `initialised`) and lists tensors it does not use. Throws
 * {@link WeightError} for missing encoder tensors (all listed) or a shape mismatch.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./src/model/config.ts";
 * import { openSafetensors } from "./src/io/safetensors.ts";
 * import { loadWeights } from "./src/model/weights.ts";
 * const dir = "tests/fixtures/bert_seq_cls";
 * const src = await openSafetensors(dir);
 * const w = await loadWeights(await loadConfig(dir), src);
 * src.close();
 * console.log(w.params.length, w.initialised, w.unexpected); // 33 [] []
 * ```
 */
export async function loadWeights(
  cfg: ModelConfig,
  source: TensorSource,
  { seed = 0 }: { seed?: number } = {},
): Promise<LoadedWeights> {
  const specs = parameterSpecs(cfg);
  const byName = new Map<string, string>();
  for (const n of source.names()) {
    const c = canonicalName(cfg, n);
    if (c !== null) byName.set(c, n);
  }
  const used = new Set<string>();
  const missing: string[] = [];
  const initialised: string[] = [];
  const params: Float32Array[] = [];
  for (const [index, spec] of specs.entries()) {
    const parts = spec.parts ?? [spec.name];
    const partShape = spec.parts ? [spec.shape[0] / parts.length, ...spec.shape.slice(1)] : spec.shape;
    const absent = parts.filter((n) => !byName.has(n));
    if (absent.length) {
      if (!spec.head) missing.push(...absent);
      else {
        initialised.push(spec.name);
        params.push(initParameter(spec, cfg, seed, index));
      }
      continue;
    }
    const out = new Float32Array(size(spec.shape));
    for (const [k, n] of parts.entries()) {
      const file = byName.get(n)!;
      const found = source.info(file).shape;
      if (found.length !== partShape.length || found.some((d, i) => d !== partShape[i])) {
        const labels = `${cfg.numLabels} label${cfg.numLabels === 1 ? "" : "s"}`;
        const why = spec.head
          ? ` (the task head for ${labels}: this checkpoint's head was built for another label set; start ` +
            "from its base encoder, or train with the labels it knows)"
          : "";
        const shapes = `expected shape ${fmt(partShape)}, found ${fmt(found)}`;
        throw new WeightError(`tensor '${file}': ${shapes}${why}`);
      }
      out.set(await source.get(file), k * size(partShape));
      used.add(file);
    }
    params.push(out);
  }
  if (missing.length) {
    const shown = missing.slice(0, 8).join(", ") +
      (missing.length > 8 ? `, ... (${missing.length} in all)` : "");
    throw new WeightError(`checkpoint lacks encoder tensors of the ${cfg.modelType} config: ${shown}`);
  }
  const unexpected = source.names().filter((n) => !used.has(n) && canonicalName(cfg, n) !== null);
  return { specs, params, initialised, unexpected };
}

/** The parameters as Hugging Face tensors (fused Q/K/V split back), ready to write. */
export function toHfTensors(specs: readonly ParamSpec[], params: readonly Float32Array[]): NamedTensor[] {
  if (specs.length !== params.length) {
    throw new WeightError(`${params.length} parameter arrays for ${specs.length} parameters`);
  }
  const out: NamedTensor[] = [];
  for (const [i, spec] of specs.entries()) {
    if (params[i].length !== size(spec.shape)) {
      throw new WeightError(
        `parameter '${spec.name}': ${params[i].length} values, expected ${size(spec.shape)}`,
      );
    }
    if (!spec.parts) {
      out.push({ name: spec.name, shape: spec.shape, data: params[i] });
      continue;
    }
    const shape = [spec.shape[0] / spec.parts.length, ...spec.shape.slice(1)];
    const n = size(shape);
    spec.parts.forEach((name, k) => out.push({ name, shape, data: params[i].subarray(k * n, (k + 1) * n) }));
  }
  return out;
}

/** Writes the parameters to `path` as an F32 safetensors file with Hugging Face names. */
export async function saveWeights(
  path: string,
  specs: readonly ParamSpec[],
  params: readonly Float32Array[],
): Promise<void> {
  await writeSafetensors(path, toHfTensors(specs, params));
}
