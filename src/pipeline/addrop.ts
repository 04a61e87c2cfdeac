/**
 * AD-DROP's two middle stages wired together: before an AD-DROP step's forward/backward, one submit runs the
 * clean forward (dropout on), the attribution of every selected layer and the mask stage; the step then runs
 * the program whose selected layers add those masks to their scores. Cross-tuning: epochs 1, 3, ... (1-based)
 * are plain, 2, 4, ... AD-DROP.
 *
 * @module
 */
import { CommandBatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import type { EncodedBatch, Encoder } from "../model/encoder.ts";
import type { Program } from "../model/program.ts";
import { type AttributionMethod, buildAttribution } from "./attribute.ts";
import {
  buildIntegratedGradients,
  createIgBuffers,
  destroyIgBuffers,
  type IgBuffers,
} from "./attribute_ig.ts";
import { buildMask } from "./mask.ts";
import type { ProgramCache } from "./train_step.ts";

/** AD-DROP settings (the `train` flags). */
export interface AdDropOptions {
  attribution: AttributionMethod;
  p: number;
  q: number;
  layers: number[] | "all";
  selection: "high" | "low";
  igSteps: number;
  seed: number;
}

/**
 * AD-DROP's options with the command line's defaults (`grad` attribution, p = 0.3, q = 0.2, layer 0, the
 * highest-attribution positions, 20 integrated-gradients steps, seed 42) under the ones given.
 */
export function adDropOptions(o: Partial<AdDropOptions> = {}): AdDropOptions {
  return { attribution: "grad", p: 0.3, q: 0.2, layers: [0], selection: "high", igSteps: 20, seed: 42, ...o };
}

/** Whether 0-based `epoch` is an AD-DROP epoch. */
export function isAdDropEpoch(epoch: number, crossTuning: boolean): boolean {
  return !crossTuning || epoch % 2 === 1;
}

/** Resolves `--layers` against the model's depth. */
export function resolveLayers(layers: number[] | "all", numLayers: number): number[] {
  if (layers === "all") return Array.from({ length: numLayers }, (_, l) => l);
  const bad = layers.filter((l) => l >= numLayers);
  if (bad.length) {
    throw new RangeError(
      `--layers ${layers.join(",")}: layer ${bad[0]} does not exist (the model has ${numLayers} layers, 0..${
        numLayers - 1
      })`,
    );
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

interface LayerBuffers {
  scores: Tensor;
  thr: Tensor;
  mask: Tensor;
}

/** The attribute and mask stages of one run, with buffers allocated once. */
export class AdDrop {
  #prepared = new Map<
    string,
    Promise<{ clean: Program; masked: Program; stage: import("../gpu/encoder.ts").Dispatch[] }>
  >();

  private constructor(
    readonly enc: Encoder,
    readonly programs: ProgramCache,
    readonly o: AdDropOptions,
    readonly layers: number[],
    readonly buffers: Map<number, LayerBuffers>,
    readonly dlogits: Tensor,
    readonly ig: IgBuffers | null,
  ) {}

  static async create(enc: Encoder, programs: ProgramCache, o: AdDropOptions): Promise<AdDrop> {
    const layers = resolveLayers(o.layers, enc.cfg.numLayers);
    const { maxBatch: B, maxLength: T } = enc.options;
    const NH = enc.cfg.numHeads;
    const buffers = new Map<number, LayerBuffers>();
    for (const l of layers) {
      buffers.set(l, {
        scores: await createTensor(enc.gpu, [B * NH * T * T], "f32", { label: `addrop scores ${l}` }),
        thr: await createTensor(enc.gpu, [B * NH * T], "f32", { label: `addrop threshold ${l}` }),
        mask: await createTensor(enc.gpu, [B * NH * T * T], "f32", { label: `addrop mask ${l}` }),
      });
    }
    const rows = enc.cfg.head === "token_classification" ? B * T : B;
    const dlogits = await createTensor(enc.gpu, [rows * enc.cfg.numLabels], "f32", {
      label: "attribution dlogits",
    });
    const ig = o.attribution === "ig" ? await createIgBuffers(enc) : null;
    return new AdDrop(enc, programs, o, layers, buffers, dlogits, ig);
  }

  #build(B: number, T: number) {
    const key = `${B}x${T}`;
    let p = this.#prepared.get(key);
    if (!p) {
      p = (async () => {
        const enc = this.enc;
        const NH = enc.cfg.numHeads;
        const clean = await this.programs.get(B, T, "train");
        const view = (t: Tensor, n: number) => t.view([n]);
        const masks = new Map<number, Tensor>();
        const scores = new Map<number, Tensor>();
        for (const l of this.layers) {
          const b = this.buffers.get(l)!;
          masks.set(l, view(b.mask, B * NH * T * T).view([B, NH, T, T]));
          scores.set(
            l,
            this.o.attribution === "attention"
              ? clean.layers[l].probs
              : view(b.scores, B * NH * T * T).view([B, NH, T, T]),
          );
        }
        const method = this.o.attribution;
        const dlogits = this.dlogits.view([enc.rows(B, T), enc.cfg.numLabels]);
        const stage = [
          ...clean.forward,
          ...method === "ig"
            ? await buildIntegratedGradients(enc, clean, this.layers, scores, dlogits, this.ig!, {
              steps: this.o.igSteps,
              mode: "train",
            })
            : await buildAttribution(enc, clean, method, this.layers, scores, dlogits),
        ];
        for (const l of this.layers) {
          const b = this.buffers.get(l)!;
          stage.push(
            ...await buildMask(enc, B, T, l, {
              scores: method === "random" ? null : scores.get(l)!,
              thr: view(b.thr, B * NH * T),
              mask: masks.get(l)!,
            }, { p: this.o.p, q: this.o.q, selection: this.o.selection, random: method === "random" }),
          );
        }
        const masked = await this.programs.custom(`addrop:${B}x${T}`, B, T, {
          mode: "train",
          addMasks: masks,
        });
        return { clean, masked, stage };
      })();
      this.#prepared.set(key, p);
    }
    return p;
  }

  /**
   * Runs the clean forward, attribution and mask stages for `batch` (dropout and masks drawn from a stream of
   * their own for micro-step `microStep`) and returns the masked program for the forward/backward stage.
   */
  async prepare(batch: EncodedBatch, microStep: number): Promise<Program> {
    const { stage, masked } = await this.#build(batch.B, batch.T);
    this.enc.writeBatch(batch);
    this.enc.setStep(this.o.seed, (microStep ^ 0x80000000) >>> 0);
    new CommandBatch(this.enc.gpu, "addrop attribute+mask").run(...stage).submit();
    return masked;
  }

  destroy(): void {
    for (const b of this.buffers.values()) for (const t of Object.values(b)) t.destroy();
    this.dlogits.destroy();
    if (this.ig) destroyIgBuffers(this.ig);
  }
}
