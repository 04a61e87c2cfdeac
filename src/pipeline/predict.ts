/**
 * `predict()`: runs a checkpoint over an input file and writes one JSON line per input row, in order, streaming
 * both sides (memory does not grow with the file). Output goes to a temporary file renamed at the end.
 *
 * @module
 */
import { readConll } from "../data/conll.ts";
import type { Gpu } from "../gpu/device.ts";
import { requestGpu } from "../gpu/device.ts";
import { CommandBatch } from "../gpu/encoder.ts";
import { InOrder, readFloats } from "../gpu/readback.ts";
import { Encoder } from "../model/encoder.ts";
import { loadTaskModel } from "../model/model.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import { assertInputForHead, readTextInput } from "./data.ts";
import { argmax, runSizes, softmax } from "./evaluate.ts";
import { collate, type EncodedExample, paddedLength } from "./tokenize.ts";
import { ProgramCache } from "./train_step.ts";
import { isMarianCheckpoint } from "../model/marian_config.ts";
import { predictTranslations } from "./translate.ts";

/** Options of {@linkcode predict}. */
export interface PredictOptions {
  model: string;
  input: string;
  output: string;
  maxLength?: number;
  batchSize?: number;
  textColumn?: string;
  textPairColumn?: string;
  /** Translation checkpoints: the source column (default `source`) and the longest translation in tokens. */
  sourceColumn?: string;
  maxNewTokens?: number;
  /** Translation: beams (default: the config's `num_beams`). */
  numBeams?: number;
  /** Reuse a device (tests, library callers); one is requested otherwise. */
  gpu?: Gpu;
}

/** Writes predictions for every row of `input` to `output` (JSONL) and returns the row count. */
export async function predict(o: PredictOptions): Promise<number> {
  if (await isMarianCheckpoint(o.model)) return await predictTranslations(o);
  const gpu = o.gpu ?? await requestGpu();
  const model = await loadTaskModel(gpu, o.model).catch((e) => {
    if (!o.gpu) gpu.destroy();
    throw e;
  });
  const cfg = model.cfg;
  const { maxLength, batchSize } = runSizes(o, cfg.maxSequenceLength);
  const tok = await loadTokenizer(o.model, { maxLength, typeIds: cfg.typeVocabSize > 1 });
  const enc = await Encoder.create(gpu, cfg, model.store, {
    maxBatch: batchSize,
    maxLength: paddedLength(maxLength, cfg.maxSequenceLength),
  });
  const programs = new ProgramCache(enc);
  const token = cfg.head === "token_classification";
  const tmp = `${o.output}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const text = new TextEncoder();
  let rows = 0;
  try {
    let pending: { item: EncodedExample; words?: string[] }[] = [];
    // One batch in flight: a batch's rows are written once the next batch has been submitted.
    const inFlight = new InOrder<Float32Array>();
    const flush = async () => {
      if (!pending.length) return;
      const items = pending;
      pending = [];
      const batch = collate(items.map((p) => p.item), tok.padId, enc.options.maxLength);
      const prog = await programs.get(batch.B, batch.T, "eval");
      enc.writeBatch(batch);
      new CommandBatch(gpu, "predict").run(...prog.forward).submit();
      // The copy of the logits is submitted now, before the next batch overwrites them.
      await inFlight.push(readFloats(gpu, prog.logits), async (logits) => {
        const L = cfg.numLabels;
        let out = "";
        items.forEach((p, b) => {
          out += JSON.stringify(
            token
              ? tokenRow(logits, b * batch.T, p.item, p.words!, cfg.id2label)
              : seqRow(logits.subarray(b * L, (b + 1) * L), cfg),
          ) + "\n";
        });
        await file.write(text.encode(out));
        rows += items.length;
      });
    };
    assertInputForHead(o.input, token);
    if (token) {
      for await (const ex of readConll(o.input, { requireLabel: false })) {
        const e = tok.encodeWords(ex.words);
        pending.push({
          item: { ids: e.ids, typeIds: e.typeIds, target: null, wordIds: e.wordIds },
          words: ex.words,
        });
        if (pending.length === batchSize) await flush();
      }
    } else {
      for await (const ex of readTextInput(o.input, o)) {
        const e = tok.encode(ex.text, ex.textPair ?? null);
        pending.push({ item: { ids: e.ids, typeIds: e.typeIds, target: null } });
        if (pending.length === batchSize) await flush();
      }
    }
    await flush();
    await inFlight.drain();
    file.close();
    await Deno.rename(tmp, o.output);
  } catch (e) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw e;
  } finally {
    enc.destroy();
    model.store.destroy();
    if (!o.gpu) gpu.destroy();
  }
  return rows;
}

function seqRow(logits: Float32Array, cfg: { head: string; id2label: string[] }) {
  const l = Array.from(logits);
  if (cfg.head === "regression") return { logits: l, prediction: l[0] };
  const probabilities = softmax(l);
  return { logits: l, probabilities, label: cfg.id2label[argmax(l)] };
}

function tokenRow(
  logits: Float32Array,
  rowStart: number,
  item: EncodedExample,
  words: string[],
  id2label: string[],
) {
  const L = id2label.length;
  const perWord: { logits: number[]; probabilities: number[]; label: string }[] = [];
  item.wordIds!.forEach((w, i) => {
    if (w === null || item.wordIds![i - 1] === w) return;
    const l = Array.from(logits.subarray((rowStart + i) * L, (rowStart + i + 1) * L));
    perWord[w] = { logits: l, probabilities: softmax(l), label: id2label[argmax(l)] };
  });
  // Words cut off by --max-length get no prediction (null), so every input word keeps its slot.
  const entries = words.map((word, i) => ({
    word,
    ...(perWord[i] ?? { logits: null, probabilities: null, label: null }),
  }));
  return { words: entries };
}
