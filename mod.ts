/**
 * addrop: fine-tuning of pretrained transformer encoders (BERT, RoBERTa, ELECTRA in the Hugging Face layout)
 * with AD-DROP, attribution-driven dropout; every numeric kernel is a WGSL compute shader on WebGPU.
 *
 * The high-level entry points mirror the `deno task` commands: {@linkcode train}, {@linkcode predict},
 * {@linkcode evaluate}, {@linkcode attribute}. Below them: the GPU runtime, the kernels with their CPU
 * references, the model (config, weights, tokenizer, encoder programs) and the pipeline stages.
 *
 * @example
 * ```ts
 * import { parseTrainOptions, train } from "./mod.ts";
 * const options = parseTrainOptions({
 *   model: "path/to/checkpoint",
 *   train: "train.jsonl",
 *   validation: "dev.jsonl",
 *   adDrop: true,
 *   attribution: "grad",
 *   p: 0.3,
 *   q: 0.2,
 * });
 * const result = await train(options, (e) => e.type === "eval" && console.log(e.metrics));
 * console.log(result.outputDir);
 * ```
 *
 * @module
 */

// High-level runs.
export {
  type RunEvent,
  selectionMetric,
  type StepRecord,
  train,
  type TrainResult,
} from "./src/pipeline/run.ts";
export { predict, type PredictOptions } from "./src/pipeline/predict.ts";
export { evaluate, type EvaluateOptions } from "./src/pipeline/evaluate_run.ts";
export { attribute, type AttributedExample, type AttributeOptions } from "./src/pipeline/attribute_run.ts";
export {
  flagName,
  loadTrainOptions,
  OptionsError,
  parseTrainOptions,
  TASKS,
  type TrainOptions,
  type TrainOptionsInput,
  trainOptionsSchema,
} from "./src/cli/train_options.ts";

// Pipeline stages.
export { collate, type EncodedExample, encodeExample, encodeTokenExample } from "./src/pipeline/tokenize.ts";
export { ProgramCache, type StepStats, type SubmittedStep, TrainStep } from "./src/pipeline/train_step.ts";
export { type AdamwSettings, Optimizer } from "./src/pipeline/optimizer.ts";
export {
  AdDrop,
  type AdDropOptions,
  adDropOptions,
  isAdDropEpoch,
  resolveLayers,
} from "./src/pipeline/addrop.ts";
export { type AttributionMethod, buildAttribution } from "./src/pipeline/attribute.ts";
export { buildMask, buildMaskFor, type MaskTensors } from "./src/pipeline/mask.ts";
// Translation (Marian / OPUS-MT): `train()`, `predict()` and `evaluate()` route Marian checkpoints here.
export {
  collatePairs,
  type EncodedPair,
  encodePair,
  evaluateTranslation,
  loadTranslationTokenizers,
  predictTranslations,
  readTranslationPairs,
  saveTranslationTokenizers,
  trainTranslation,
  translate,
  translationLoss,
  type TranslationPair,
  type TranslationRunOptions,
  type TranslationTokenizers,
} from "./src/pipeline/translate.ts";
export { AdDropSeq2Seq } from "./src/pipeline/addrop_seq2seq.ts";
export {
  buildMarianIntegratedGradients,
  createMarianIgBuffers,
  destroyMarianIgBuffers,
  type MarianIgBuffers,
  marianPseudoLabelStart,
} from "./src/pipeline/marian_ig.ts";
export { computeMetrics, predictLogits } from "./src/pipeline/evaluate.ts";
export { batches, epochOrder, learningRate, totalSteps, warmupSteps } from "./src/pipeline/schedule.ts";
export {
  assertInputForHead,
  isConllFile,
  loadRunData,
  readTextInput,
  type RunData,
} from "./src/pipeline/data.ts";

// Model.
export * from "./src/model/config.ts";
export * from "./src/model/weights.ts";
export * from "./src/model/tokenizer.ts";
export { byteLevelBpeTokenizerJson, wordPieceTokenizerJson } from "./src/model/tokenizer_json.ts";
export {
  loadMarianTokenizers,
  marianTokenizerJson,
  type MarianTokenizerJsonOptions,
  type MarianTokenizers,
} from "./src/model/marian_tokenizer.ts";
export {
  readSpmModel,
  type SpmModel,
  type SpmModelType,
  type SpmNormalizerSpec,
  type SpmPiece,
  type SpmPieceType,
} from "./src/model/spm.ts";
export { type LoadedModel, loadModel, loadTaskModel, readGrads, readParams } from "./src/model/model.ts";
export { ParamStore, type StoredParam } from "./src/model/param_store.ts";
export { type EncodedBatch, Encoder, type EncoderOptions, MASK_MIN } from "./src/model/encoder.ts";
export {
  buildAttributionBackward,
  buildProgram,
  type Mode,
  type Program,
  type ProgramOptions,
} from "./src/model/program.ts";
export {
  loadTrainerState,
  saveCheckpoint,
  saveTrainerState,
  type TrainerState,
} from "./src/model/checkpoint.ts";
export { createScratchModel, type ScratchOptions } from "./src/model/scratch.ts";
export * from "./src/model/marian_config.ts";
export {
  greedyGenerate,
  type LoadedMarian,
  loadMarian,
  MARIAN_STREAMS,
  MarianModel,
  type MarianOptions,
  type MarianProgram,
  type MarianProgramOptions,
  randomMarian,
  saveMarian,
  type Seq2SeqBatch,
} from "./src/model/marian.ts";
export { type BeamOptions, beamSearch, beamSearchCached } from "./src/model/marian_beam.ts";
export { greedyGenerateCached, KvDecoder } from "./src/model/marian_decode.ts";
export { attentionDecode, type AttentionDecodeDims } from "./src/kernels/attention_decode.ts";
export {
  loadMarianWeights,
  marianDecoderNames,
  marianEncoderNames,
  marianHfTensors,
  marianParamSpecs,
  type MarianWeights,
  sinusoidalPositions,
} from "./src/model/marian_weights.ts";
export {
  allocateDecoderLayer,
  type DecoderActivations,
  type DecoderGradScratch,
  type DecoderInputs,
  decoderLayerBackward,
  type DecoderLayerDims,
  decoderLayerForward,
  decoderLayerViews,
} from "./src/model/decoder_layer.ts";

// Data and metrics.
export * from "./src/data/source.ts";
export * from "./src/data/reader.ts";
export * from "./src/data/examples.ts";
export * from "./src/data/glue.ts";
export * from "./src/data/conll.ts";
export * from "./src/data/labels.ts";
export * from "./src/metrics/classification.ts";
export * from "./src/metrics/correlation.ts";
export * from "./src/metrics/seqeval.ts";
export * from "./src/metrics/glue.ts";
export * from "./src/metrics/bleu.ts";

// Checkpoint IO.
export * from "./src/io/safetensors.ts";
export * from "./src/io/safetensors_writer.ts";
export { writeFileAtomic } from "./src/io/atomic.ts";
export { InputError } from "./src/io/input_error.ts";

// GPU runtime.
export * from "./src/gpu/errors.ts";
export {
  type AdapterDescription,
  type AdapterKind,
  describeAdapter,
  Gpu,
  type GpuOptions,
  MemoryCounter,
  requestGpu,
} from "./src/gpu/device.ts";
export {
  createTensor,
  type DType,
  type HostArray,
  Tensor,
  type TensorOptions,
  writeTensor,
} from "./src/gpu/tensor.ts";
export {
  type Binding,
  CommandBatch,
  Dispatch,
  type Grid,
  grid1d,
  groups,
  prepareDispatch,
  runDispatches,
} from "./src/gpu/encoder.ts";
export { type Access, type Constants, Kernel, type KernelSource, PipelineCache } from "./src/gpu/pipeline.ts";
export { ParamPack } from "./src/gpu/params.ts";
export { readFloats, readMany, readTensor } from "./src/gpu/readback.ts";
export { timeGpu, type TimeOptions, timeWall, type Timing } from "./src/gpu/timing.ts";

// Kernels (each with a CPU reference of the same name under src/reference/).
export { residualBackward, residualForward } from "./src/kernels/residual.ts";
export * from "./src/kernels/matmul.ts";
export { ShapeError } from "./src/kernels/shapes.ts";
export { firstTokenBackward, firstTokenForward } from "./src/kernels/first_token.ts";
export { scale, scaleSplit } from "./src/kernels/scale.ts";
export {
  pseudoLabelGrad,
  pseudoLabelIds,
  pseudoLabelIdsSplit,
  type PseudoLabelMode,
} from "./src/kernels/pseudo_label.ts";
export {
  type Activation as KernelActivation,
  ACTIVATION_KIND,
  activationBackward,
  activationForward,
} from "./src/kernels/activation.ts";
export * from "./src/kernels/layernorm.ts";
export * from "./src/kernels/dropout.ts";
export * from "./src/kernels/loss.ts";
export * from "./src/kernels/embedding.ts";
export * from "./src/kernels/embedding_ids.ts";
export * from "./src/kernels/attention.ts";
export * from "./src/kernels/softmax.ts";
export * from "./src/kernels/adamw.ts";
export * from "./src/kernels/grad_norm.ts";
export * from "./src/kernels/reduce.ts";
export * from "./src/kernels/select.ts";
export {
  ADDROP_DROP,
  addropMask,
  type AddropMaskOptions,
  addropRandomMask,
  type AddropRandomMaskOptions,
} from "./src/kernels/addrop_mask.ts";
export { accumulate, type AccumulateMode, accumulateSplit } from "./src/kernels/accumulate.ts";
export { gatherRowsBackward, gatherRowsForward } from "./src/kernels/gather_rows.ts";
export { copyColumns, type CopyColumnsDims } from "./src/kernels/copy_columns.ts";
export { sweep, type SweepOptions, type SweepResult } from "./src/pipeline/sweep.ts";
export { type ExperimentOutcome, runExperiments } from "./src/pipeline/experiment.ts";
export {
  type Budget,
  type ConfigName,
  CONFIGS,
  DEFAULT_TASKS,
  type ExperimentOptions,
  type ExperimentTask,
} from "./src/pipeline/experiment_plan.ts";
export type { ExperimentCell, ExperimentResults, ExperimentRun } from "./src/pipeline/experiment_report.ts";
export { pretrain, type PretrainOptions, type PretrainResult } from "./src/pipeline/pretrain.ts";
export { maskTokens } from "./src/pipeline/mlm_mask.ts";
