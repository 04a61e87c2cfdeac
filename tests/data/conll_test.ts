import assert from "node:assert/strict";
import { readConll } from "../../src/data/conll.ts";
import { assertDataError, fixture } from "./_helpers.ts";

const CONLL = `-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O


Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

S.Korea NNP I-NP I-LOC
Japan NNP I-NP I-LOC`; // IOB1 (I- opening entities), no trailing newline: the last sentence ends the file

Deno.test("conll: DOCSTART dropped, blank-line sentence breaks, IOB1 and IOB2 tags kept as given", async () => {
  const path = await fixture("train.txt", CONLL);
  assert.deepEqual(await readConll(path).readAll(), [
    { words: ["EU", "rejects", "German", "call"], labels: ["B-ORG", "O", "B-MISC", "O"] },
    { words: ["Peter", "Blackburn"], labels: ["B-PER", "I-PER"] },
    { words: ["S.Korea", "Japan"], labels: ["I-LOC", "I-LOC"] },
  ]);
});

Deno.test("conll: configurable token and tag columns, tabs, CRLF, untagged prediction input", async () => {
  const path = await fixture("a.tsv", "1\tEU\tB-ORG\tx\r\n2\trejects\tO\tx\r\n\r\n");
  assert.deepEqual(await readConll(path, { tokenColumn: 1, tagColumn: 2 }).readAll(), [
    { words: ["EU", "rejects"], labels: ["B-ORG", "O"] },
  ]);
  const words = await fixture("p.txt", "EU\nrejects\n\nPeter\n");
  assert.deepEqual(await readConll(words, { requireLabel: false }).readAll(), [
    { words: ["EU", "rejects"], labels: [] },
    { words: ["Peter"], labels: [] },
  ]);
  await assertDataError(() => readConll(words).readAll(), words, 1, /missing tag column -1 in 'EU'/);
});

Deno.test("conll: a bad token line names file and line; skipBadRows drops and counts its sentence", async () => {
  const path = await fixture(
    "bad.txt",
    "EU B-ORG\nrejects O\n\nPeter B-PERSON\nBlackburn I-PER\n\nJapan B-LOC\n",
  );
  const labelSet = ["O", "B-ORG", "B-PER", "I-PER", "B-LOC"];
  await assertDataError(
    () => readConll(path, { labelSet }).readAll(),
    path,
    4,
    /unknown tag 'B-PERSON' \(expected one of O, B-ORG/,
  );
  const skipping = readConll(path, { labelSet, skipBadRows: true });
  assert.deepEqual(await skipping.readAll(), [
    { words: ["EU", "rejects"], labels: ["B-ORG", "O"] },
    { words: ["Japan"], labels: ["B-LOC"] },
  ]);
  assert.equal(skipping.skipped, 1);
  const mixed = await fixture("mixed.txt", "EU B-ORG\nrejects\n");
  await assertDataError(
    () => readConll(mixed, { requireLabel: false }).readAll(),
    mixed,
    2,
    /mixes tagged and untagged tokens/,
  );
});
