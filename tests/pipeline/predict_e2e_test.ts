/**
 * End-to-end `predict()`: a checkpoint saved by `train()` predicts JSONL and CSV inputs in order, with the
 * logits a reloaded model's eval program gives; a 10,000-row input streams through (the first predictions are
 * written while the input is still being produced); token classification gives one entry per word; a bad row
 * fails naming its line and leaves no output behind.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { DataError } from "../../src/data/source.ts";
import { Encoder } from "../../src/model/encoder.ts";
import { loadModel } from "../../src/model/model.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { predictLogits } from "../../src/pipeline/evaluate.ts";
import { predict } from "../../src/pipeline/predict.ts";
import { train } from "../../src/pipeline/run.ts";
import type { EncodedExample } from "../../src/pipeline/tokenize.ts";
import { ProgramCache } from "../../src/pipeline/train_step.ts";
import { assertClose } from "../_util/assert_close.ts";
import { readJsonl, sentence, tmpFiles, wordModel } from "../_util/e2e.ts";
import { gpuTest } from "../_util/gpu.ts";

interface SeqRow {
  logits: number[];
  probabilities: number[];
  label: string;
}

/** Logits of `items` from a reloaded checkpoint's eval program (batches of `batch`). */
async function reference(
  gpu: Gpu,
  dir: string,
  encode: (tok: Awaited<ReturnType<typeof loadTokenizer>>) => EncodedExample[],
  maxLength: number,
  batch: number,
) {
  const m = await loadModel(gpu, dir);
  const tok = await loadTokenizer(dir, { maxLength, typeIds: m.cfg.typeVocabSize > 1 });
  const enc = await Encoder.create(gpu, m.cfg, m.store, { maxBatch: batch, maxLength });
  try {
    const items = encode(tok);
    const pred = await predictLogits(enc, new ProgramCache(enc), items, batch, tok.padId);
    return { logits: pred.logits, items, id2label: m.cfg.id2label };
  } finally {
    enc.destroy();
    m.store.destroy();
  }
}

function checkRow(r: SeqRow, id2label: string[], where: string): void {
  assertEquals(r.logits.length, id2label.length, `${where}: logits`);
  const sum = r.probabilities.reduce((a, b) => a + b, 0);
  assert(Math.abs(sum - 1) < 1e-6, `${where}: probabilities sum to ${sum}`);
  assertEquals(r.label, id2label[r.logits.indexOf(Math.max(...r.logits))], `${where}: label`);
}

const csvField = (s: string) => /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;

gpuTest(
  "predict(): a train()-saved checkpoint predicts JSONL and CSV in order, as the reloaded model",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_predict_e2e_" });
    try {
      // A checkpoint saved by train(): one epoch on sentences labelled by whether they say "good".
      const rows = Array.from({ length: 48 }, (_, i) => sentence(i, 3 + (i % 6)));
      await Deno.writeTextFile(
        `${dir}/train.jsonl`,
        rows.map((t) => JSON.stringify({ text: t, label: t.includes("good") ? "pos" : "neg" })).join("\n") +
          "\n",
      );
      const base = await wordModel(`${dir}/base`, {
        head: "sequence_classification",
        labels: ["neg", "pos"],
      });
      const out = `${dir}/run`;
      await train(
        parseTrainOptions({
          model: base,
          train: `${dir}/train.jsonl`,
          outputDir: out,
          epochs: 1,
          batchSize: 16,
          learningRate: 1e-3,
          adDrop: false,
          maxLength: 16,
        }),
      );

      // 37 rows (not a multiple of the batch), lengths 1..12 words, each with a second text; some truncated.
      const inputs = Array.from(
        { length: 37 },
        (_, i) => ({ text: sentence(100 + i, 1 + (i % 12)), text_pair: sentence(i, 2) }),
      );
      await Deno.writeTextFile(`${dir}/in.jsonl`, inputs.map((r) => JSON.stringify(r)).join("\n") + "\n");
      await Deno.writeTextFile(
        `${dir}/in.csv`,
        "text,text_pair\n" + inputs.map((r) => `${csvField(r.text)},${csvField(r.text_pair)}`).join("\n") +
          "\n",
      );
      assert(inputs.some((r) => r.text.includes(",")), "the CSV should have quoted fields");
      const n = await predict({
        model: out,
        input: `${dir}/in.jsonl`,
        output: `${dir}/pred.jsonl`,
        maxLength: 12,
        batchSize: 8,
        gpu,
      });
      assertEquals(n, inputs.length);
      const got = await readJsonl<SeqRow>(`${dir}/pred.jsonl`);
      assertEquals(got.length, inputs.length);

      // Batches of 5 instead of 8: row i of the output is input row i.
      const ref = await reference(
        gpu,
        out,
        (tok) =>
          inputs.map((r) => {
            const e = tok.encode(r.text, r.text_pair);
            return { ids: e.ids, typeIds: e.typeIds, target: null };
          }),
        12,
        5,
      );
      got.forEach((r, i) => {
        checkRow(r, ref.id2label, `row ${i}`);
        assertClose(r.logits, ref.logits[i], { atol: 1e-5, rtol: 1e-5, name: `row ${i} logits` });
      });
      assert(new Set(got.map((r) => r.logits[0])).size > 30, "rows should have different logits");

      // The same rows as CSV give the same predictions.
      const n2 = await predict({
        model: out,
        input: `${dir}/in.csv`,
        output: `${dir}/pred_csv.jsonl`,
        maxLength: 12,
        batchSize: 8,
        gpu,
      });
      assertEquals(n2, inputs.length);
      assertEquals(await readJsonl(`${dir}/pred_csv.jsonl`), got);
      assertEquals(await tmpFiles(dir), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "predict(): a 10,000-row input streams (output starts while the input is still being written)",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_predict_stream_" });
    try {
      const model = await wordModel(`${dir}/model`, {
        head: "sequence_classification",
        labels: ["a", "b"],
        hidden: 16,
        maxPositions: 16,
      });
      // A FIFO: the "file" exists only as far as the writer below has produced it.
      const input = `${dir}/input.jsonl`;
      const mk = await new Deno.Command("mkfifo", { args: [input] }).output();
      assert(mk.success, "mkfifo failed");
      await Deno.mkdir(`${dir}/out`);
      const N = 10_000;
      const CHUNK = 100;
      let written = 0;
      let writtenAtFirstOutput = -1;
      const outputStarted = async () => {
        for await (const e of Deno.readDir(`${dir}/out`)) {
          if (e.name.endsWith(".tmp") && (await Deno.stat(`${dir}/out/${e.name}`)).size > 0) return true;
        }
        return false;
      };
      const writer = (async () => {
        const f = await Deno.open(input, { write: true });
        const text = new TextEncoder();
        try {
          for (let i = 0; i < N; i += CHUNK) {
            if (writtenAtFirstOutput < 0 && await outputStarted()) writtenAtFirstOutput = written;
            let s = "";
            for (let k = i; k < i + CHUNK; k++) s += JSON.stringify({ text: sentence(k, 10) }) + "\n";
            const bytes = text.encode(s);
            for (let at = 0; at < bytes.length;) at += await f.write(bytes.subarray(at));
            written += CHUNK;
          }
        } finally {
          f.close();
        }
      })();
      const t0 = performance.now();
      const n = await predict({
        model,
        input,
        output: `${dir}/out/pred.jsonl`,
        maxLength: 8,
        batchSize: 128,
        gpu,
      }).catch(async (e) => {
        // Unblock a writer still waiting for a reader before failing.
        (await Deno.open(input, { read: true })).close();
        throw e;
      });
      await writer;
      const seconds = (performance.now() - t0) / 1000;
      assertEquals(n, N);
      const lines = (await Deno.readTextFile(`${dir}/out/pred.jsonl`)).split("\n").filter(Boolean);
      assertEquals(lines.length, N);
      checkRow(JSON.parse(lines[N - 1]), ["a", "b"], "last row");
      assert(
        writtenAtFirstOutput >= 0 && writtenAtFirstOutput < N / 2,
        `first output after ${writtenAtFirstOutput} of ${N} input rows were written`,
      );
      assertEquals(await tmpFiles(dir), []);
      if (Deno.env.get("E2E_VERBOSE")) {
        console.log(`first output after ${writtenAtFirstOutput} rows; ${N} rows in ${seconds.toFixed(1)} s`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "predict(): token classification gives one entry per input word (null past max length)",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_predict_tok_" });
    try {
      const labels = ["B-LOC", "I-LOC", "O"];
      const model = await wordModel(`${dir}/model`, { head: "token_classification", labels });
      // "cats" is two tokens (cat ##s), "zzz" is [UNK]; the 20-word sentence is cut by max length 12.
      const sentences = [
        ["john", "lives", "in", "paris", "."],
        ["cats"],
        Array.from({ length: 20 }, (_, i) => (i % 4 === 1 ? "cats" : sentence(i, 1))),
        ["mary", "zzz", "london"],
      ];
      const conll = "-DOCSTART-\n\n" + sentences.map((s) => s.join("\n") + "\n").join("\n");
      await Deno.writeTextFile(`${dir}/in.conll`, conll);
      const n = await predict({
        model,
        input: `${dir}/in.conll`,
        output: `${dir}/pred.jsonl`,
        maxLength: 12,
        batchSize: 3,
        gpu,
      });
      assertEquals(n, sentences.length);
      type Entry = {
        word: string;
        logits: number[] | null;
        probabilities: number[] | null;
        label: string | null;
      };
      const got = await readJsonl<{ words: Entry[] }>(`${dir}/pred.jsonl`);
      const ref = await reference(
        gpu,
        model,
        (tok) =>
          sentences.map((words) => {
            const e = tok.encodeWords(words);
            return { ids: e.ids, typeIds: e.typeIds, target: null, wordIds: e.wordIds };
          }),
        12,
        2,
      );
      let cut = 0;
      got.forEach((row, s) => {
        assertEquals(row.words.map((e) => e.word), sentences[s], `sentence ${s} words`);
        const wordIds = ref.items[s].wordIds!;
        const first = new Map<number, number>(); // word -> its first token
        wordIds.forEach((w, t) => w !== null && !first.has(w) && first.set(w, t));
        row.words.forEach((e, w) => {
          const where = `sentence ${s} word ${w} '${e.word}'`;
          if (!first.has(w)) {
            assertEquals([e.logits, e.probabilities, e.label], [null, null, null], where);
            cut++;
            return;
          }
          checkRow(e as SeqRow, labels, where);
          const t = first.get(w)!;
          assertClose(e.logits!, ref.logits[s].subarray(t * 3, t * 3 + 3), {
            atol: 1e-5,
            rtol: 1e-5,
            name: where,
          });
        });
      });
      assert(cut > 0 && cut < 20, `${cut} words past max length`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "predict(): a bad row fails naming file and line, and leaves no output or temporary file",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "addrop_predict_bad_" });
    try {
      const model = await wordModel(`${dir}/model`, {
        head: "sequence_classification",
        labels: ["a", "b"],
        hidden: 16,
      });
      const rows = Array.from({ length: 200 }, (_, i) => JSON.stringify({ text: sentence(i, 4) }));
      rows[149] = '{"text": "cut off';
      await Deno.writeTextFile(`${dir}/in.jsonl`, rows.join("\n") + "\n");
      // Batches of 32: four batches are written before line 150 is read.
      await rejects(
        predict({
          model,
          input: `${dir}/in.jsonl`,
          output: `${dir}/pred.jsonl`,
          batchSize: 32,
          maxLength: 8,
          gpu,
        }),
        (e: Error) => e instanceof DataError && e.message.startsWith(`${dir}/in.jsonl:150: `),
      );
      await rejects(Deno.stat(`${dir}/pred.jsonl`), Deno.errors.NotFound);
      assertEquals(await tmpFiles(dir), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
