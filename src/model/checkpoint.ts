/**
 * Saving a checkpoint directory in the Hugging Face layout (config.json, model.safetensors with F32 tensors
 * under Hugging Face names, the tokenizer files), and the training state `--resume` continues from. Every file
 * is written to a temporary name and renamed.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { readFloats } from "../gpu/readback.ts";
import { writeTensor } from "../gpu/tensor.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { openSafetensors } from "../io/safetensors.ts";
import { writeSafetensors } from "../io/safetensors_writer.ts";
import { configToJson, type ModelConfig } from "./config.ts";
import { readParams } from "./model.ts";
import type { ParamStore } from "./param_store.ts";
import type { TextTokenizer } from "./tokenizer.ts";
import { type ParamSpec, saveWeights } from "./weights.ts";
import { InputError } from "../io/input_error.ts";

/** Writes config.json, model.safetensors and the tokenizer files of a model into `dir`. */
export async function saveCheckpoint(
  gpu: Gpu,
  dir: string,
  m: { cfg: ModelConfig; specs: readonly ParamSpec[]; store: ParamStore; tokenizer: TextTokenizer },
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const params = await readParams(gpu, m.store, m.specs);
  await saveWeights(`${dir}/model.safetensors`, m.specs, params);
  await writeFileAtomic(`${dir}/config.json`, JSON.stringify(configToJson(m.cfg), null, 2) + "\n");
  await writeFileAtomic(`${dir}/tokenizer.json`, JSON.stringify(m.tokenizer.json) + "\n");
  await writeFileAtomic(`${dir}/tokenizer_config.json`, JSON.stringify(m.tokenizer.config, null, 2) + "\n");
}

/** What `--resume` needs beyond the weights: the optimizer moments and where the run stood. */
export interface TrainerState {
  /** Epochs completed (0-based count). */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Micro-batches run (seeds dropout). */
  microStep: number;
  bestMetric: number | null;
  bestEpoch: number | null;
  epochsWithoutImprovement: number;
  history: Record<string, number>[];
  /** The options the run was started with, to refuse a resume with different ones. */
  options: Record<string, unknown>;
}

/** The state of a run that has not trained yet, started with `options`. */
export function freshTrainerState(options: Record<string, unknown>): TrainerState {
  return {
    epoch: 0,
    step: 0,
    microStep: 0,
    bestMetric: null,
    bestEpoch: null,
    epochsWithoutImprovement: 0,
    history: [],
    options,
  };
}

/** Saves the last completed epoch's weights, optimizer moments and trainer state into `dir`. */
export async function saveTrainerState(
  gpu: Gpu,
  dir: string,
  m: { cfg: ModelConfig; specs: readonly ParamSpec[]; store: ParamStore; tokenizer: TextTokenizer },
  state: TrainerState,
): Promise<void> {
  await saveCheckpoint(gpu, dir, m);
  await saveOptimizerState(gpu, dir, m.store, state);
}

/**
 * Saves the Adam moments (`optimizer.safetensors`) and the trainer state (`trainer_state.json`) into `dir`, beside
 * weights saved by the caller (any model family).
 */
export async function saveOptimizerState(
  gpu: Gpu,
  dir: string,
  store: ParamStore,
  state: TrainerState,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const arena = async (t: typeof store.m, name: string) => ({
    name,
    shape: [t.size],
    data: await readFloats(gpu, t),
  });
  await writeSafetensors(`${dir}/optimizer.safetensors`, [
    await arena(store.m, "adam.m"),
    await arena(store.v, "adam.v"),
  ]);
  await writeFileAtomic(`${dir}/trainer_state.json`, JSON.stringify(state, null, 2) + "\n");
}

/** Restores the optimizer moments of `dir` into the store and returns the trainer state. */
export async function loadTrainerState(gpu: Gpu, dir: string, store: ParamStore): Promise<TrainerState> {
  const state = JSON.parse(await Deno.readTextFile(`${dir}/trainer_state.json`)) as TrainerState;
  const src = await openSafetensors(`${dir}/optimizer.safetensors`);
  try {
    for (const [name, t] of [["adam.m", store.m], ["adam.v", store.v]] as const) {
      const data = await src.get(name);
      if (data.length !== t.size) {
        throw new InputError(
          `${dir}/optimizer.safetensors: '${name}' has ${data.length} values, the model needs ${t.size}`,
        );
      }
      writeTensor(gpu, t, data);
    }
  } finally {
    src.close();
  }
  return state;
}
