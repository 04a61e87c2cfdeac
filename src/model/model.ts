/**
 * Loading a Hugging Face checkpoint directory onto the GPU: config, weights (into the parameter store) and the
 * list of what was initialised or left unused; and reading the parameters back for saving.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { readFloats } from "../gpu/readback.ts";
import { openSafetensors } from "../io/safetensors.ts";
import { type ConfigOptions, loadConfig, type ModelConfig } from "./config.ts";
import { ParamStore } from "./param_store.ts";
import { loadWeights, type ParamSpec, WeightError } from "./weights.ts";
import { InputError } from "../io/input_error.ts";
import { isMarianCheckpoint } from "./marian_config.ts";

/** A checkpoint's config and parameters on the GPU. */
export interface LoadedModel {
  cfg: ModelConfig;
  specs: ParamSpec[];
  store: ParamStore;
  /** Head tensors the checkpoint lacked, initialised from the seed. */
  initialised: string[];
  /** Checkpoint tensors that map to no parameter. */
  unexpected: string[];
}

/** Loads `dir` (config.json + model.safetensors or its sharded index) into a new parameter store. */
export async function loadModel(
  gpu: Gpu,
  dir: string,
  options: ConfigOptions & { seed?: number } = {},
): Promise<LoadedModel> {
  const cfg = await loadConfig(`${dir}/config.json`, options);
  const source = await openSafetensors(dir);
  try {
    const w = await loadWeights(cfg, source, { seed: options.seed ?? 0 }).catch((e) => {
      throw e instanceof WeightError ? new WeightError(`${dir}: ${e.message}`) : e;
    });
    const store = await ParamStore.create(gpu, w.specs);
    store.upload(gpu, w.params);
    return { cfg, specs: w.specs, store, initialised: w.initialised, unexpected: w.unexpected };
  } finally {
    source.close();
  }
}

/**
 * {@linkcode loadModel} for the commands that use a checkpoint's task head (predict, evaluate, attribute): an
 * {@link InputError} naming the config when it has none (a base encoder or a masked-language model), with
 * nothing left allocated.
 */
export async function loadTaskModel(gpu: Gpu, dir: string): Promise<LoadedModel> {
  if (await isMarianCheckpoint(dir)) {
    throw new InputError(
      `${dir}/config.json: a Marian translation checkpoint: train, predict and evaluate take it; attribution ` +
        "of translation models is not offered yet",
    );
  }
  const model = await loadModel(gpu, dir);
  const { head, architectures } = model.cfg;
  if (head === "none" || head === "masked_lm") {
    model.store.destroy();
    const arch = architectures.join(", ") || "none";
    throw new InputError(
      `${dir}/config.json: the checkpoint has no task head (architectures ${arch}); fine-tune it on a task ` +
        "first (deno task train)",
    );
  }
  return model;
}

/** Reads every parameter back, in spec order. */
export async function readParams(
  gpu: Gpu,
  store: ParamStore,
  specs: readonly ParamSpec[],
): Promise<Float32Array[]> {
  const all = await readFloats(gpu, store.params);
  return specs.map((s) => {
    const off = store.offsets.get(s.name)!;
    return all.slice(off, off + s.shape.reduce((a, b) => a * b, 1));
  });
}

/** Reads every gradient back, in spec order (tests and debugging). */
export async function readGrads(
  gpu: Gpu,
  store: ParamStore,
  specs: readonly ParamSpec[],
): Promise<Float32Array[]> {
  const all = await readFloats(gpu, store.grads);
  return specs.map((s) => {
    const off = store.offsets.get(s.name)!;
    return all.slice(off, off + s.shape.reduce((a, b) => a * b, 1));
  });
}
