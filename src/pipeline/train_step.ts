/**
 * The forward/backward and optimizer stages of one training step, with the programs of each batch shape cached:
 * a micro-batch records forward, loss and backward into one submit; every `accumulation` micro-batches the
 * optimizer step (gradient norm, clipping, AdamW) and the gradient reset follow in the same submit.
 *
 * @module
 */
import { CommandBatch, type Dispatch } from "../gpu/encoder.ts";
import { readMany } from "../gpu/readback.ts";
import { scale } from "../kernels/scale.ts";
import type { EncodedBatch, Encoder } from "../model/encoder.ts";
import { buildProgram, type Mode, type Program, type ProgramOptions } from "../model/program.ts";
import type { Optimizer } from "./optimizer.ts";

/** Programs by shape and mode, built on first use. */
export class ProgramCache {
  #programs = new Map<string, Promise<Program>>();
  constructor(readonly encoder: Encoder) {}

  /** The plain program of a shape (no AD-DROP masks). */
  get(B: number, T: number, mode: Mode): Promise<Program> {
    return this.custom(`${mode}:${B}x${T}`, B, T, { mode });
  }

  /** A program with extra options, cached under `key`. */
  custom(key: string, B: number, T: number, o: ProgramOptions): Promise<Program> {
    let p = this.#programs.get(key);
    if (!p) {
      p = buildProgram(this.encoder, B, T, o);
      this.#programs.set(key, p);
    }
    return p;
  }

  /** Number of programs built. */
  get size(): number {
    return this.#programs.size;
  }
}

/** Numbers of one optimizer step, read back for the log. */
export interface StepStats {
  loss: number;
  gradNorm: number;
  tokens: number;
}

/** Runs micro-batches and optimizer steps on the GPU. */
export class TrainStep {
  #micro = 0;
  #lossSum = 0;
  #tokens = 0;
  #scaleDispatches = new Map<Program, Dispatch>();

  constructor(
    readonly encoder: Encoder,
    readonly programs: ProgramCache,
    readonly optimizer: Optimizer,
    readonly accumulation: number,
    readonly seed: number,
  ) {}

  /**
   * One micro-batch: inputs written, forward + loss (+ 1/accumulation) + backward recorded into one submit.
   * `microStep` numbers every micro-batch of the run (it seeds dropout). `program` overrides the plain one (the
   * AD-DROP masked program). On the last micro-batch of an optimizer step, pass `optimizerStep` (1-based) and
   * `lr`: the optimizer and the gradient reset join the same submit and the step's numbers come back.
   */
  async run(
    batch: EncodedBatch,
    microStep: number,
    o: { program?: Program; optimizerStep?: number; lr?: number } = {},
  ): Promise<StepStats | null> {
    const enc = this.encoder;
    const prog = o.program ?? await this.programs.get(batch.B, batch.T, "train");
    enc.writeBatch(batch);
    enc.setStep(this.seed, microStep);
    const cmd = new CommandBatch(enc.gpu, "train step");
    cmd.run(...prog.forward, ...prog.loss);
    if (this.accumulation > 1) cmd.run(await this.#scale(prog));
    cmd.run(...prog.backward);
    const finish = o.optimizerStep !== undefined;
    if (finish) {
      this.optimizer.setStep(o.optimizerStep!, o.lr!);
      cmd.run(...this.optimizer.step);
      cmd.zero(enc.store.grads);
    }
    cmd.submit();
    const [loss, norm] = await readMany(enc.gpu, [prog.lossValue, this.optimizer.norm]);
    this.#lossSum += loss[0];
    this.#tokens += countTokens(batch);
    this.#micro++;
    if (!finish) return null;
    const stats = { loss: this.#lossSum / this.#micro, gradNorm: norm[0], tokens: this.#tokens };
    this.#micro = 0;
    this.#lossSum = 0;
    this.#tokens = 0;
    return stats;
  }

  async #scale(prog: Program): Promise<Dispatch> {
    let d = this.#scaleDispatches.get(prog);
    if (!d) {
      d = await scale(this.encoder.gpu, { x: prog.dlogits }, { s: 1 / this.accumulation });
      this.#scaleDispatches.set(prog, d);
    }
    return d;
  }
}

function countTokens(b: EncodedBatch): number {
  let n = 0;
  for (let i = 0; i < b.B * b.T; i++) n += b.attentionMask[i] ? 1 : 0;
  return n;
}
