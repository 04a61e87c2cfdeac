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

/** A submitted micro-batch: `stats` settles once the GPU has run it (see {@linkcode TrainStep.submit}). */
export interface SubmittedStep {
  /** The optimizer step's numbers on its last micro-batch, else null. */
  stats: Promise<StepStats | null>;
}

/** Runs micro-batches and optimizer steps on the GPU. */
export class TrainStep {
  /** Loss and token count of each micro-batch of the current optimizer step, as their readbacks settle. */
  #window: Promise<{ loss: number; tokens: number }>[] = [];
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
   *
   * Returns once the work is submitted, with the step's numbers still on their way: the next micro-batch can be
   * written and submitted before they are awaited, so the GPU has work queued while the CPU waits for a
   * readback (each wait for the GPU costs at least ~10 ms in Deno's WebGPU: its completion is polled). Every `stats`
   * must be awaited (in order) before the readbacks of many steps pile up.
   */
  async submit(
    batch: EncodedBatch,
    microStep: number,
    o: { program?: Program; optimizerStep?: number; lr?: number } = {},
  ): Promise<SubmittedStep> {
    const enc = this.encoder;
    const prog = o.program ?? await this.programs.get(batch.B, batch.T, "train");
    const scaleDispatch = this.accumulation > 1 ? await this.#scale(prog) : null;
    enc.writeBatch(batch);
    enc.setStep(this.seed, microStep);
    const cmd = new CommandBatch(enc.gpu, "train step");
    cmd.run(...prog.forward, ...prog.loss);
    if (scaleDispatch) cmd.run(scaleDispatch);
    cmd.run(...prog.backward);
    const finish = o.optimizerStep !== undefined;
    if (finish) {
      this.optimizer.setStep(o.optimizerStep!, o.lr!);
      cmd.run(...this.optimizer.step);
      cmd.zero(enc.store.grads);
    }
    cmd.submit();
    // The copies into the staging buffer are submitted now, before the next micro-batch overwrites the loss.
    const read = readMany(enc.gpu, [prog.lossValue, this.optimizer.norm]);
    const tokens = countTokens(batch);
    const micro = read.then(([loss]) => ({ loss: loss[0], tokens }));
    micro.catch(() => {}); // a failed readback rejects `stats` too; this copy is only collected
    this.#window.push(micro);
    if (!finish) return { stats: read.then(() => null) };
    const window = this.#window.splice(0);
    // The loss is the mean over the micro-batches (summed in their order).
    const stats = Promise.all([read, ...window]).then(([[, norm], ...micros]) => ({
      loss: micros.reduce((a, m) => a + m.loss, 0) / micros.length,
      gradNorm: norm[0],
      tokens: micros.reduce((a, m) => a + m.tokens, 0),
    }));
    return { stats };
  }

  /** {@linkcode TrainStep.submit}, then waits for its numbers. */
  async run(
    batch: EncodedBatch,
    microStep: number,
    o: { program?: Program; optimizerStep?: number; lr?: number } = {},
  ): Promise<StepStats | null> {
    return await (await this.submit(batch, microStep, o)).stats;
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
