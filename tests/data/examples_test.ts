import assert from "node:assert/strict";
import { readExamples } from "../../src/data/examples.ts";
import { readAll } from "../../src/data/reader.ts";
import { assertDataError, fixture } from "./_helpers.ts";

Deno.test("jsonl: text, pair, string and numeric labels, blank lines and CRLF", async () => {
  const path = await fixture(
    "a.jsonl",
    '{"text":"a b","label":"pos"}\r\n\n{"text":"c","text_pair":"d","label":1}\n{"text":"e","label":true}',
  );
  assert.deepEqual(await readExamples(path).readAll(), [
    { text: "a b", label: "pos" },
    { text: "c", textPair: "d", label: "1" },
    { text: "e", label: "true" },
  ]);
});

Deno.test("jsonl: custom columns, regression labels, optional labels for prediction", async () => {
  const path = await fixture(
    "r.jsonl",
    '{"s1":"x","s2":"y","score":"4.5"}\n{"s1":"z","s2":"w","score":0.25}\n',
  );
  const opts = { textColumn: "s1", textPairColumn: "s2", labelColumn: "score", labelType: "number" } as const;
  assert.deepEqual(await readExamples(path, opts).readAll(), [
    { text: "x", textPair: "y", label: 4.5 },
    { text: "z", textPair: "w", label: 0.25 },
  ]);
  const unlabeled = await fixture("p.jsonl", '{"text":"x"}\n{"text":"y","label":"1"}\n');
  assert.deepEqual(await readExamples(unlabeled, { requireLabel: false }).readAll(), [
    { text: "x" },
    { text: "y", label: "1" },
  ]);
  await assertDataError(
    () => readExamples(unlabeled).readAll(),
    unlabeled,
    1,
    /missing label column 'label'/,
  );
});

Deno.test("csv: header columns, quoted commas, quotes and newlines; line numbers after a multi-line field", async () => {
  const path = await fixture(
    "a.csv",
    'id,sentence,label\n1,"Hello, ""world""",pos\n2,"two\nlines",neg\n3,,neg\n',
  );
  const reader = readExamples(path, { textColumn: "sentence" });
  // Row 3 starts on line 5 (the quoted field of row 2 spans lines 3-4) and has an empty text.
  await assertDataError(() => reader.readAll(), path, 5, /empty text in column 'sentence'/);
  const skipping = readExamples(path, { textColumn: "sentence", skipBadRows: true });
  assert.deepEqual(await skipping.readAll(), [
    { text: 'Hello, "world"', label: "pos" },
    { text: "two\nlines", label: "neg" },
  ]);
  assert.deepEqual(skipping.skipped, 1);
  assert.deepEqual(skipping.skippedErrors[0].line, 5);
});

Deno.test("csv: a quote inside an unquoted field is kept (like Python); an unclosed quote is a DataError", async () => {
  const path = await fixture("q.csv", 'text,label\na "b" c,1\n');
  assert.deepEqual(await readExamples(path).readAll(), [{ text: 'a "b" c', label: "1" }]);
  const open = await fixture("o.csv", 'text,label\nok,1\n"open,1\nnext,0\n');
  await assertDataError(() => readExamples(open).readAll(), open, 4, /malformed CSV: Quote Not Closed/);
  const array = await fixture("a.json", '[{"text":"a"}]');
  await assertDataError(
    () => readExamples(array).readAll(),
    array,
    1,
    /expected JSON Lines: one object per line/,
  );
});

Deno.test("tsv: quotes are ordinary characters by default; explicit format overrides the extension", async () => {
  const path = await fixture("a.txt", 'text\tlabel\nhe said "hi\t1\n"ok" then\t0\n');
  assert.deepEqual(await readExamples(path, { format: "tsv" }).readAll(), [
    { text: 'he said "hi', label: "1" },
    { text: '"ok" then', label: "0" },
  ]);
  assert.throws(() => readExamples(path), /a\.txt: unknown file format/);
});

Deno.test("bad rows: missing column, unknown label, invalid JSON, empty text name file and line", async () => {
  const csv = await fixture("b.csv", "text,label\nfine,a\nonly-text\n");
  await assertDataError(() => readExamples(csv).readAll(), csv, 3, /missing label column 'label'/);
  const labels = await fixture("c.jsonl", '{"text":"x","label":"a"}\n{"text":"y","label":"z"}\n');
  await assertDataError(
    () => readExamples(labels, { labelSet: ["a", "b"] }).readAll(),
    labels,
    2,
    /unknown label 'z' \(expected one of a, b\)/,
  );
  const json = await fixture(
    "d.jsonl",
    '{"text":"x","label":"a"}\n\n{"text": oops}\n[1]\n{"text":"  ","label":"a"}\n',
  );
  await assertDataError(() => readExamples(json).readAll(), json, 3, /invalid JSON/);
  const skipping = readExamples(json, { skipBadRows: true });
  assert.deepEqual(await skipping.readAll(), [{ text: "x", label: "a" }]);
  assert.deepEqual(skipping.skipped, 3);
  assert.deepEqual(skipping.skippedErrors.map((e) => e.line), [3, 4, 5]);
  const regression = await fixture("e.jsonl", '{"text":"x","label":"high"}\n');
  await assertDataError(
    () => readExamples(regression, { labelType: "number" }).readAll(),
    regression,
    1,
    /label 'high' is not a finite number/,
  );
  // A column missing from the header is a file error even with skipBadRows.
  const header = await fixture("f.csv", "sentence,label\nx,1\n");
  await assertDataError(
    () => readExamples(header, { skipBadRows: true }).readAll(),
    header,
    1,
    /text column 'text' not in the header \[sentence, label\]/,
  );
});

const ROWS = 10_000;
const row = (i: number, label = "a") => JSON.stringify({ text: `row ${i} `.padEnd(80, "x"), label }) + "\n";

const csvRow = (i: number, label = "a") => `row ${i} `.padEnd(80, "x") + `,${label}\n`;
const generated = {
  jsonl: (label?: string) => Array.from({ length: ROWS }, (_, i) => row(i, label)).join(""),
  csv: (label?: string) => "text,label\n" + Array.from({ length: ROWS }, (_, i) => csvRow(i, label)).join(""),
};

for (const format of ["jsonl", "csv"] as const) {
  Deno.test(`streaming: the first of 10,000 ${format} rows arrives after reading a small part`, async () => {
    const bytes = new TextEncoder().encode(generated[format]());
    let pulled = 0;
    let cancelled = false;
    const readable = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= bytes.length) return controller.close();
        const chunk = bytes.subarray(pulled, pulled + 4096);
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const ex of readExamples({ name: `gen.${format}`, readable })) {
      assert.equal(ex.text.startsWith("row 0 "), true);
      // A slow consumer (the model at work): read-ahead must stay bounded meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 50));
      break;
    }
    // A reader that loaded the file first would pull all ~900 KB. Line by line (JSONL) pulls a few 4 KB chunks;
    // csv-parse's stream parser buffers up to 1024 records (~92 KB) ahead.
    assert.ok(
      pulled < bytes.length / 4,
      `pulled ${pulled} of ${bytes.length} bytes while the first row was in use`,
    );
    assert.equal(cancelled, true, "stopping early must cancel the source");
  });
}

for (const format of ["jsonl", "csv"] as const) {
  Deno.test(`streaming: a ${format} file's tail rewritten after the first row is read as rewritten`, async () => {
    const line = format === "jsonl" ? row : csvRow;
    const path = await fixture(`big.${format}`, generated[format]());
    const size = (await Deno.stat(path)).size;
    let count = 0;
    let last = "";
    for await (const ex of readExamples(path)) {
      if (count++ === 0) {
        // Overwrite the last row in place (same length, label a -> b). Had the reader loaded the whole file
        // before yielding, it would still see label "a".
        const file = await Deno.open(path, { write: true });
        await file.seek(size - line(ROWS - 1).length, Deno.SeekMode.Start);
        await file.write(new TextEncoder().encode(line(ROWS - 1, "b")));
        file.close();
      }
      last = ex.label!;
    }
    assert.deepEqual([count, last], [ROWS, "b"]);
  });
}

Deno.test("readAll collects any async iterable", async () => {
  async function* gen() {
    yield 1;
    yield 2;
  }
  assert.deepEqual(await readAll(gen()), [1, 2]);
});
