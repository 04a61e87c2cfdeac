import assert from "node:assert/strict";
import { GLUE, GLUE_TASKS, glueTask, readGlue } from "../../src/data/glue.ts";
import { assertDataError } from "./_helpers.ts";
import { tempDir } from "../_util/tmp.ts";

const tsv = (...rows: string[][]) => rows.map((r) => r.join("\t")).join("\n") + "\n";

/** Writes `files` (relative path -> text) under a new temp dir. */
async function glueDir(files: Record<string, string>): Promise<string> {
  const dir = await tempDir("glue_");
  for (const [rel, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${rel}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${rel}`, text);
  }
  return dir;
}

Deno.test("glue cola: headerless train/dev by position, quote inside a sentence, test by header", async () => {
  const dir = await glueDir({
    "CoLA/train.tsv": tsv(
      ["gj04", "1", "", "Our friends won't buy this analysis, let alone the next one we propose."],
      ["gj04", "0", "*", 'He said "the thing.'],
      ["gj04", "1", "", '"Bill whistled past the house.'],
    ),
    "CoLA/test.tsv": tsv(["index", "sentence"], ["0", 'Bill "whistled past the house.']),
  });
  assert.deepEqual(await readGlue(dir, "cola", "train").readAll(), [
    { text: "Our friends won't buy this analysis, let alone the next one we propose.", label: "1" },
    { text: 'He said "the thing.', label: "0" },
    { text: '"Bill whistled past the house.', label: "1" },
  ]);
  assert.deepEqual(await readGlue(dir, "cola", "test").readAll(), [{
    text: 'Bill "whistled past the house.',
  }]);
});

Deno.test("glue sst2, mrpc (byte-order mark), stsb (float score), qnli, rte, wnli by header names", async () => {
  const dir = await glueDir({
    "SST-2/dev.tsv": tsv(["sentence", "label"], ['" unflinchingly bleak and desperate ', "0"], [
      "it 's a charming journey . ",
      "1",
    ]),
    "MRPC/train.tsv": "\ufeff" + tsv(
      ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"],
      ["1", "702876", "702977", 'Amrozi called " the witness " , lying .', 'He called him " the witness " .'],
    ),
    "STS-B/dev.tsv": tsv(
      [
        "index",
        "genre",
        "filename",
        "year",
        "old_index",
        "source1",
        "source2",
        "sentence1",
        "sentence2",
        "score",
      ],
      [
        "0",
        "main-captions",
        "MSRvid",
        "2012test",
        "0000",
        "none",
        "none",
        "A man is dancing.",
        'A "man" dances.',
        "3.800",
      ],
    ),
    "QNLI/dev.tsv": tsv(["index", "question", "sentence", "label"], [
      "0",
      "What?",
      "That.",
      "not_entailment",
    ]),
    "RTE/train.tsv": tsv(["index", "sentence1", "sentence2", "label"], ["0", "A b.", "C d.", "entailment"]),
    "WNLI/train.tsv": tsv(["index", "sentence1", "sentence2", "label"], [
      "0",
      "It fell.",
      "The cup fell.",
      "1",
    ]),
  });
  assert.deepEqual(await readGlue(dir, "sst2", "dev").readAll(), [
    { text: '" unflinchingly bleak and desperate ', label: "0" },
    { text: "it 's a charming journey . ", label: "1" },
  ]);
  assert.deepEqual(await readGlue(dir, "mrpc", "train").readAll(), [
    {
      text: 'Amrozi called " the witness " , lying .',
      textPair: 'He called him " the witness " .',
      label: "1",
    },
  ]);
  assert.deepEqual(await readGlue(dir, "stsb", "dev").readAll(), [
    { text: "A man is dancing.", textPair: 'A "man" dances.', label: 3.8 },
  ]);
  assert.deepEqual(await readGlue(dir, "qnli", "dev").readAll(), [
    { text: "What?", textPair: "That.", label: "not_entailment" },
  ]);
  assert.deepEqual(await readGlue(dir, "rte", "train").readAll(), [{
    text: "A b.",
    textPair: "C d.",
    label: "entailment",
  }]);
  assert.deepEqual(await readGlue(dir, "wnli", "train").readAll(), [
    { text: "It fell.", textPair: "The cup fell.", label: "1" },
  ]);
});

Deno.test("glue mnli: gold_label after label1..label5, matched and mismatched dev files, flat data dir", async () => {
  const head = [
    "index",
    "promptID",
    "pairID",
    "genre",
    "s1_bp",
    "s2_bp",
    "s1_p",
    "s2_p",
    "sentence1",
    "sentence2",
  ];
  const dir = await glueDir({
    "dev_matched.tsv": tsv(
      [...head, "label1", "label2", "label3", "label4", "label5", "gold_label"],
      [
        "0",
        "1",
        "1e",
        "gov",
        "(",
        "(",
        "(",
        "(",
        '"The new" rights.',
        "Everyone loves it.",
        "neutral",
        "entailment",
        "neutral",
        "neutral",
        "neutral",
        "neutral",
      ],
    ),
    "dev_mismatched.tsv": tsv(
      [...head, "label1", "label2", "label3", "label4", "label5", "gold_label"],
      [
        "0",
        "2",
        "2c",
        "letters",
        "(",
        "(",
        "(",
        "(",
        "Yes.",
        "No.",
        "contradiction",
        "contradiction",
        "contradiction",
        "contradiction",
        "contradiction",
        "contradiction",
      ],
    ),
  });
  assert.deepEqual(GLUE.mnli.devSplits.map((s) => s.split), ["dev_matched", "dev_mismatched"]);
  assert.deepEqual(await readGlue(dir, "mnli", "dev_matched").readAll(), [
    { text: '"The new" rights.', textPair: "Everyone loves it.", label: "neutral" },
  ]);
  assert.deepEqual(await readGlue(dir, "mnli", "dev_mismatched").readAll(), [
    { text: "Yes.", textPair: "No.", label: "contradiction" },
  ]);
});

Deno.test("glue qqp: a row with missing columns is a DataError naming file and line, or skipped", async () => {
  const dir = await glueDir({
    "QQP/train.tsv": tsv(
      ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
      ["1", "3", "4", 'Why "is" it?', "Why not?", "0"],
      ["2", "5", "6", "Truncated question"],
      ["3", "7", "8", "How?", "How so?", "1"],
    ),
    "RTE/dev.tsv": tsv(["index", "sentence1", "sentence2", "label"], ["0", "A.", "B.", "entailed"]),
  });
  const path = `${dir}/QQP/train.tsv`;
  await assertDataError(
    () => readGlue(dir, "qqp", "train").readAll(),
    path,
    3,
    /missing text pair column '?question2'?/,
  );
  const skipping = readGlue(dir, "qqp", "train", { skipBadRows: true });
  assert.deepEqual((await skipping.readAll()).map((e) => e.label), ["0", "1"]);
  assert.equal(skipping.skipped, 1);
  await assertDataError(
    () => readGlue(dir, "rte", "dev").readAll(),
    `${dir}/RTE/dev.tsv`,
    2,
    /unknown label 'entailed' \(expected one of entailment, not_entailment\)/,
  );
});

Deno.test("glue: task names, label sets, missing files", async () => {
  assert.deepEqual(GLUE_TASKS.length, 9);
  assert.deepEqual(GLUE.mnli.labels, ["contradiction", "entailment", "neutral"]);
  assert.equal(GLUE.stsb.regression, true);
  assert.throws(() => glueTask("sst-3"), /unknown GLUE task 'sst-3'/);
  const dir = await tempDir();
  assert.throws(
    () => readGlue(dir, "rte", "dev"),
    /GLUE rte split 'dev': neither .*dev\.tsv nor .*RTE\/dev\.tsv exists/,
  );
});
