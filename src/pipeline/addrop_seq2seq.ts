/**
 * AD-DROP for translation (Marian): before an AD-DROP step's forward/backward, one submit runs the clean
 * forward of encoder and decoder (dropout on), the pseudo-labels (each target position's argmax, positions with
 * no label ignored), the attribution of the selected encoder self-attention layers, dF/dA with F = -CE against
 * the pseudo-labels (ADDROP.md: token classification and sequence-to-sequence), from one activation-only
 * backward through decoder and encoder, and the mask stage; the step then runs the program whose selected
 * encoder layers add those masks to their scores. `ig` integrates that gradient along the scaled probabilities
 * (`marian_ig.ts`), `attention` scores are the clean probabilities, `random` drops real keys with probability p*q.
 *
 * @module
 */
import { CommandBatch, type Dispatch } from "../gpu/encoder.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import type { MarianModel, MarianProgram, Seq2SeqBatch } from "../model/marian.ts";
import { type AdDropOptions, isAdDropEpoch, resolveLayers } from "./addrop.ts";
import { buildMaskFor } from "./mask.ts";
import {
  buildMarianIntegratedGradients,
  createMarianIgBuffers,
  destroyMarianIgBuffers,
  type MarianIgBuffers,
  marianPseudoLabelStart,
} from "./marian_ig.ts";

export { isAdDropEpoch };

/** The attribute and mask stages of a translation run, with buffers allocated once. */
export class AdDropSeq2Seq {
  static #count = 0;
  /** Keys this instance's programs (which bind its buffers) in the model's program cache. */
  readonly id = ++AdDropSeq2Seq.#count;
  #prepared = new Map<string, Promise<{ masked: MarianProgram; stage: Dispatch[] }>>();

  private constructor(
    readonly m: MarianModel,
    readonly o: AdDropOptions,
    readonly layers: number[],
    readonly buffers: Map<number, { scores: Tensor; thr: Tensor; mask: Tensor }>,
    readonly dlogits: Tensor,
    readonly pseudo: Tensor,
    readonly ig: MarianIgBuffers | null,
  ) {}

  static async create(m: MarianModel, o: AdDropOptions): Promise<AdDropSeq2Seq> {
    const layers = resolveLayers(o.layers, m.cfg.encoderLayers);
    const { maxBatch: B, maxLength: T } = m.options;
    const NH = m.cfg.encoderHeads;
    const f = (label: string, n: number) => createTensor(m.gpu, [n], "f32", { label });
    const buffers = new Map<number, { scores: Tensor; thr: Tensor; mask: Tensor }>();
    for (const l of layers) {
      buffers.set(l, {
        scores: await f(`addrop scores ${l}`, B * NH * T * T),
        thr: await f(`addrop threshold ${l}`, B * NH * T),
        mask: await f(`addrop mask ${l}`, B * NH * T * T),
      });
    }
    const dlogits = await f("attribution dlogits", B * T * m.cfg.vocabSize);
    const pseudo = await createTensor(m.gpu, [B * T], "i32", { label: "attribution pseudo-labels" });
    const ig = o.attribution === "ig" ? await createMarianIgBuffers(m) : null;
    return new AdDropSeq2Seq(m, o, layers, buffers, dlogits, pseudo, ig);
  }

  #build(B: number, T: number) {
    const key = `${B}x${T}`;
    let p = this.#prepared.get(key);
    if (!p) {
      p = (async () => {
        const m = this.m;
        const NH = m.cfg.encoderHeads;
        const V = m.cfg.vocabSize;
        const method = this.o.attribution;
        const sq = (t: Tensor) => t.view([B * NH * T * T]).view([B, NH, T, T]);
        const masks = new Map<number, Tensor>();
        const dprobs = new Map<number, Tensor>();
        for (const l of this.layers) {
          masks.set(l, sq(this.buffers.get(l)!.mask));
          dprobs.set(l, sq(this.buffers.get(l)!.scores));
        }
        const dlogits = this.dlogits.view([B * T, V]);
        const gradient = method === "grad" || method === "ig";
        const clean = await m.program(
          B,
          T,
          "train",
          gradient ? { attribution: { dlogits, dprobs } } : {},
          gradient ? `attribution#${this.id}` : "",
        );
        const stage: Dispatch[] = [...clean.encoderForward];
        if (method === "ig") {
          stage.push(
            ...clean.decoderForward,
            ...await buildMarianIntegratedGradients(m, clean, this.layers, dprobs, dlogits, this.ig!, {
              steps: this.o.igSteps,
              mode: "train",
              key: `#${this.id}`,
            }),
          );
        } else if (method === "grad") {
          // F = -CE against the clean pass's argmax (ADDROP.md, token classification and seq2seq).
          const { ids, start } = await marianPseudoLabelStart(
            m,
            clean.logits,
            dlogits,
            this.pseudo.view([B * T]),
          );
          stage.push(...clean.decoderForward, ...ids, ...start, ...clean.attributionBackward);
        }
        const src = { gpu: m.gpu, NH, lengths: m.inputs.lengths, rng: m.inputs.rng };
        for (const l of this.layers) {
          const b = this.buffers.get(l)!;
          const scores = method === "random"
            ? null
            : method === "attention"
            ? clean.encLayers[l].probs
            : dprobs.get(l)!;
          stage.push(
            ...await buildMaskFor(src, B, T, l, {
              scores,
              thr: b.thr.view([B * NH * T]),
              mask: masks.get(l)!,
            }, {
              p: this.o.p,
              q: this.o.q,
              selection: this.o.selection,
              random: method === "random",
            }),
          );
        }
        const masked = await m.program(B, T, "train", { addMasks: masks }, `addrop#${this.id}`);
        return { masked, stage };
      })();
      this.#prepared.set(key, p);
    }
    return p;
  }

  /**
   * Runs the clean forward, attribution and mask stages for `batch` (dropout and masks from a stream of their
   * own for micro-step `microStep`) and returns the masked program for the forward/backward stage.
   */
  async prepare(batch: Seq2SeqBatch, microStep: number): Promise<{ program: MarianProgram }> {
    const { stage, masked } = await this.#build(batch.B, batch.T);
    this.m.writeBatch(batch);
    this.m.setStep(this.o.seed, (microStep ^ 0x80000000) >>> 0);
    new CommandBatch(this.m.gpu, "addrop attribute+mask").run(...stage).submit();
    return { program: masked };
  }

  destroy(): void {
    for (const b of this.buffers.values()) for (const t of Object.values(b)) t.destroy();
    this.dlogits.destroy();
    this.pseudo.destroy();
    if (this.ig) destroyMarianIgBuffers(this.ig);
  }
}
