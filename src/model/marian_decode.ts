/**
 * Greedy generation with a key/value cache: the encoder runs once, each decoder layer's cross-attention keys and
 * values are projected once, and each step runs the decoder on one new position per example, its self-attention
 * keys and values appended to a per-layer cache (B, maxNewTokens, 2C) and attended by a single-query kernel
 * (`attention_decode.wgsl`). The same arithmetic as the full forward up to the order of the attention's sums; the
 * same generation rules as {@linkcode greedyGenerate} (bad words, eos, forced eos).
 *
 * Legend: B examples, Ts longest source, C hidden, NH heads, HS = C / NH, F feed-forward width, V vocabulary.
 *
 * @module
 */
import type { Dispatch } from "../gpu/encoder.ts";
import { CommandBatch } from "../gpu/encoder.ts";
import { readTensor } from "../gpu/readback.ts";
import { createTensor, type DType, type Tensor, writeTensor } from "../gpu/tensor.ts";
import { activationForward } from "../kernels/activation.ts";
import { attentionDecode, attentionDecodeParams } from "../kernels/attention_decode.ts";
import { copyColumns, copyColumnsParams } from "../kernels/copy_columns.ts";
import { embeddingForward } from "../kernels/embedding.ts";
import { layernormForward } from "../kernels/layernorm.ts";
import { matmulForward } from "../kernels/matmul.ts";
import { pseudoLabelIds } from "../kernels/pseudo_label.ts";
import { gatherRowsForward } from "../kernels/gather_rows.ts";
import { residualForward } from "../kernels/residual.ts";
import { scale } from "../kernels/scale.ts";
import { acceptGreedy, checkGeneration, type MarianModel, sourceRows } from "./marian.ts";
import { marianDecoderNames, SHARED } from "./marian_weights.ts";

/**
 * The decoder of a Marian model run one position at a time over a key/value cache, for `rows` = sources x
 * `copies` rows (beam search runs K copies of each source). Create it, call {@linkcode KvDecoder.step} for
 * positions 0, 1, ... with each row's input token, read `logits` (rows, V; the bad words' bias included) or
 * `next` (their argmax), and `destroy()` it. Between steps, `parents` reorders the rows' caches (beam search:
 * row r continues the history of row parents[r]).
 */
export class KvDecoder {
  #step = 0;
  #parity = 0;
  #gathers: (Dispatch[] | null)[] = [null, null];
  #disposables = new DisposableStack();

  private constructor(
    readonly m: MarianModel,
    readonly rows: number,
    readonly maxNewTokens: number,
    /** (rows, V) logits of the last step, with the generation bias (bad words at f32 min). */
    readonly logits: Tensor,
    /** (rows) i32: their argmax. */
    readonly next: Tensor,
    private readonly parts: {
      once: Dispatch[];
      embed: Dispatch[];
      before: Dispatch[][];
      after: Dispatch[][];
      head: Dispatch[];
      argmax: Dispatch;
      tokIds: Tensor;
      posIds: Tensor;
      parentIds: Tensor;
      /** Two caches per layer (rows, maxNewTokens, 2C): the current one and the one a reordering writes. */
      caches: [Tensor, Tensor][];
      /**
       * Per cache (0, 1) and layer: the cache write and the self-attention, prepared once for the last position;
       * `at` rewrites their parameters for position t.
       */
      positional: [Dispatch, Dispatch][][];
      at: (t: number) => { write: ArrayBuffer; attend: ArrayBuffer };
    },
  ) {}

  /** Allocates and prepares the decoder for `sources` (each repeated `copies` times) and `maxNewTokens` steps. */
  static async create(
    m: MarianModel,
    sources: number[][],
    copies: number,
    maxNewTokens: number,
  ): Promise<KvDecoder> {
    const { gpu, store, cfg } = m;
    const R = sources.length * copies;
    const B = R;
    const Ts = checkGeneration(m, sources, maxNewTokens, R);
    const Tmax = maxNewTokens;
    const C = cfg.hiddenSize;
    const V = cfg.vocabSize;
    const F = cfg.decoderFfn;
    const NH = cfg.decoderHeads;
    const HS = C / NH;
    const pad = cfg.padTokenId;
    const stack = new DisposableStack();
    try {
      const tensor = async (label: string, n: number, dtype: DType = "f32") => {
        const t = await createTensor(gpu, [n], dtype, { label });
        stack.defer(() => t.destroy());
        return t;
      };
      const L = cfg.decoderLayers;
      const crossKv: Tensor[] = [];
      const caches: [Tensor, Tensor][] = [];
      for (let l = 0; l < L; l++) {
        crossKv.push(await tensor(`cross k|v ${l}`, B * Ts * 2 * C));
        caches.push([
          await tensor(`self k|v cache ${l}`, B * Tmax * 2 * C),
          await tensor(`self k|v cache ${l} (reordered)`, copies > 1 ? B * Tmax * 2 * C : 1),
        ]);
      }
      const bc = (label: string) => tensor(label, B * C);
      const [xa, xb, ctx, attnOut, res, h1, qc, cctx, cattnOut, h2, fc2] = await Promise.all(
        ["x a", "x b", "ctx", "attn out", "residual", "h1", "cross q", "cross ctx", "cross out", "h2", "fc2"]
          .map(
            bc,
          ),
      );
      const qkv = await tensor("qkv", B * 3 * C);
      const fc1 = await tensor("fc1", B * F);
      const act = await tensor("act", B * F);
      const mean = await tensor("mean", B);
      const rstd = await tensor("rstd", B);
      const logits = await tensor("logits", B * V);
      const selfMask = await tensor("self mask", B * Tmax);
      const tokIds = await tensor("token ids", B, "u32");
      const posIds = await tensor("position ids", B, "u32");
      const parentIds = await tensor("parent rows", B, "u32");
      const typeIds = await tensor("type ids", B, "u32");
      const idsOut = await tensor("next ids", B, "i32");
      const noIgnore = await tensor("rows", B, "i32");

      // The encoder, once, then each layer's cross-attention keys and values.
      const src = sourceRows(sources, copies, Ts, pad);
      const prog = await m.program(B, Ts, "eval");
      m.writeBatch({
        B,
        T: Ts,
        inputIds: src.inputIds,
        attentionMask: src.mask,
        decoderInputIds: src.inputIds,
      });
      m.setStep(0, 0);
      const w = (n: string) => store.param(`${n}.weight`);
      const b = (n: string) => store.param(`${n}.bias`);
      const names = Array.from({ length: L }, (_, l) => marianDecoderNames(l));
      const lin = (out: Tensor, inp: Tensor, n: string, K: number, N: number, M = B) =>
        matmulForward(gpu, { out, inp, weight: w(n), bias: b(n) }, { M, K, N });
      const ln = (out: Tensor, inp: Tensor, n: string) =>
        layernormForward(gpu, { out, mean, rstd, inp, weight: w(n), bias: b(n) }, {
          rows: B,
          C,
          eps: cfg.layerNormEps,
        });
      // Single-query attention over Tk of `rows` cached (key | value) rows of 2C per row, queries `qStride` apart.
      const heads = (Tk: number, qStride: number, kvRows: number) => ({
        B,
        NH,
        HS,
        Tk,
        qStride,
        qOffset: 0,
        kvBatch: kvRows * 2 * C,
        kvStride: 2 * C,
        kOffset: 0,
        vOffset: C,
        maskStride: kvRows,
        scale: 1 / Math.sqrt(HS),
      });
      const once: Dispatch[] = [];
      for (let l = 0; l < L; l++) {
        once.push(...await lin(crossKv[l], prog.encOut, names[l].crossKv, C, 2 * C, B * Ts));
      }
      const embed: Dispatch[] = await embeddingForward(gpu, {
        out: xa,
        ids: tokIds,
        posIds,
        typeIds,
        wte: store.param(SHARED),
        wpe: m.buffers.pos,
        wtt: m.buffers.type,
      }, { N: B, C });
      if (cfg.scaleEmbedding) embed.push(await scale(gpu, { x: xa }, { s: Math.sqrt(C) }));
      const before: Dispatch[][] = [];
      const after: Dispatch[][] = [];
      for (let l = 0; l < L; l++) {
        const x = l % 2 === 0 ? xa : xb;
        const y = l % 2 === 0 ? xb : xa;
        const n = names[l];
        before.push(await lin(qkv, x, n.qkv, C, 3 * C));
        after.push([
          ...await lin(attnOut, ctx, n.attnOut, C, C),
          await residualForward(gpu, { out: res, inp1: attnOut, inp2: x }),
          await ln(h1, res, n.ln1),
          ...await lin(qc, h1, n.crossQ, C, C),
          await attentionDecode(
            gpu,
            { out: cctx, q: qc, kv: crossKv[l], mask: m.inputs.srcKeyMask },
            heads(Ts, C, Ts),
          ),
          ...await lin(cattnOut, cctx, n.crossOut, C, C),
          await residualForward(gpu, { out: res, inp1: cattnOut, inp2: h1 }),
          await ln(h2, res, n.ln2),
          ...await lin(fc1, h2, n.fc1, C, F),
          await activationForward(gpu, { out: act, inp: fc1 }, { kind: cfg.activation }),
          ...await lin(fc2, act, n.fc2, F, C),
          await residualForward(gpu, { out: res, inp1: fc2, inp2: h2 }),
          await ln(y, res, n.ln3),
        ]);
      }
      const top = L % 2 === 0 ? xa : xb;
      const head: Dispatch[] = await matmulForward(gpu, {
        out: logits,
        inp: top,
        weight: store.param(SHARED),
        bias: m.buffers.genBias,
      }, { M: B, K: C, N: V });
      const argmax = await pseudoLabelIds(gpu, { labels: idsOut, logits, targets: noIgnore }, {
        rows: B,
        L: V,
      });
      // The two dispatches per layer that depend on the position: the cache write and the self-attention,
      // prepared (and checked) for the last position, their parameters rewritten at each step.
      const write = (t: number) => ({
        rows: B,
        width: 2 * C,
        outStride: Tmax * 2 * C,
        outOffset: t * 2 * C,
        inpStride: 3 * C,
        inpOffset: C,
      });
      const at = (t: number) => ({
        write: copyColumnsParams(write(t)),
        attend: attentionDecodeParams(heads(t + 1, 3 * C, Tmax)),
      });
      const positional: [Dispatch, Dispatch][][] = [];
      for (const parity of copies > 1 ? [0, 1] : [0]) {
        const perLayer: [Dispatch, Dispatch][] = [];
        for (const pair of caches) {
          const cache = pair[parity];
          perLayer.push([
            await copyColumns(gpu, { out: cache, inp: qkv }, write(Tmax - 1)),
            await attentionDecode(
              gpu,
              { out: ctx, q: qkv, kv: cache, mask: selfMask },
              heads(Tmax, 3 * C, Tmax),
            ),
          ]);
        }
        positional.push(perLayer);
      }
      const dec = new KvDecoder(m, R, maxNewTokens, logits, idsOut, {
        once: [...prog.encoderForward, ...once],
        embed,
        before,
        after,
        head,
        argmax,
        tokIds,
        posIds,
        parentIds,
        caches,
        positional,
        at,
      });
      for (
        const d of [
          ...once,
          ...embed,
          ...before.flat(),
          ...after.flat(),
          ...head,
          argmax,
          ...positional.flat(2),
        ]
      ) {
        stack.defer(() => d.destroy());
      }
      dec.#disposables = stack.move();
      return dec;
    } catch (e) {
      stack.dispose();
      throw e;
    }
  }

  /**
   * Runs position `t` (0, 1, ... in order) for every row with input `tokens` (rows); with `parents` (rows), row r
   * first takes over the cache of row parents[r] (from the second position on; a decoder with one row per
   * source has no other row to take over, so it ignores them). `argmax` also writes `next`.
   */
  async step(tokens: Uint32Array, o: { parents?: Uint32Array; argmax?: boolean } = {}): Promise<void> {
    const { gpu } = this.m;
    const p = this.parts;
    const t = this.#step;
    if (t >= this.maxNewTokens) {
      throw new RangeError(`KvDecoder: step ${t} beyond its ${this.maxNewTokens} positions`);
    }
    const cmd = new CommandBatch(gpu, "generate (cached)");
    if (t === 0) cmd.run(...p.once);
    if (o.parents && t > 0 && p.positional.length > 1) {
      // Reorder: the other cache of each layer gets row parents[r] of the current one, and becomes current.
      writeTensor(gpu, p.parentIds, o.parents);
      cmd.run(...await this.#reorder(this.#parity));
      this.#parity = 1 - this.#parity;
    }
    writeTensor(gpu, p.tokIds, tokens);
    writeTensor(gpu, p.posIds, new Uint32Array(this.rows).fill(t));
    cmd.run(...p.embed);
    const params = p.at(t);
    for (let l = 0; l < p.before.length; l++) {
      const [write, attend] = p.positional[this.#parity][l];
      write.setParams(gpu, params.write);
      attend.setParams(gpu, params.attend);
      cmd.run(...p.before[l], write, attend, ...p.after[l]);
    }
    cmd.run(...p.head);
    if (o.argmax) cmd.run(p.argmax);
    cmd.submit();
    this.#step++;
  }

  /** The gathers from cache `from` (0 or 1) of every layer into the other, prepared once per direction. */
  async #reorder(from: number): Promise<Dispatch[]> {
    let list = this.#gathers[from];
    if (!list) {
      const p = this.parts;
      const rowLen = this.maxNewTokens * 2 * this.m.cfg.hiddenSize;
      list = [];
      for (const pair of p.caches) {
        list.push(
          await gatherRowsForward(this.m.gpu, { out: pair[1 - from], inp: pair[from], rows: p.parentIds }, {
            P: this.rows,
            N: this.rows,
            C: rowLen,
          }),
        );
      }
      for (const d of list) this.#disposables.defer(() => d.destroy());
      this.#gathers[from] = list;
    }
    return list;
  }

  /** Frees the decoder's tensors and dispatches. */
  destroy(): void {
    this.#disposables.dispose();
  }
}

/**
 * Greedy decoding (transformers' `generate(num_beams=1)`) of `sources` with a key/value cache; returns each
 * example's ids after the start token, with the eos if it came.
 */
export async function greedyGenerateCached(
  m: MarianModel,
  sources: number[][],
  o: { maxNewTokens: number },
): Promise<number[][]> {
  const cfg = m.cfg;
  const B = sources.length;
  const dec = await KvDecoder.create(m, sources, 1, o.maxNewTokens);
  try {
    const out: number[][] = Array.from({ length: B }, () => []);
    const done = new Array(B).fill(false);
    const tokens = new Uint32Array(B).fill(cfg.decoderStartTokenId);
    for (let t = 0; t < o.maxNewTokens && done.includes(false); t++) {
      await dec.step(tokens, { argmax: true });
      tokens.set(acceptGreedy(cfg, t, o.maxNewTokens, await readTensor(m.gpu, dec.next), out, done));
    }
    return out;
  } finally {
    dec.destroy();
  }
}
