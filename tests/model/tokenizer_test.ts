import assert from "node:assert/strict";
import { join } from "node:path";
import { Tokenizer } from "npm:@huggingface/tokenizers@0.2.0";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { loadConfig } from "../../src/model/config.ts";
import {
  IGNORE_INDEX,
  loadTokenizer,
  padBatch,
  TextTokenizer,
  truncateLongestFirst,
} from "../../src/model/tokenizer.ts";
import { byteLevelBpeTokenizerJson, wordPieceTokenizerJson } from "../../src/model/tokenizer_json.ts";
import { tempDir } from "../_util/tmp.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const VOCAB = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "[MASK]",
  "un",
  "##aff",
  "##able",
  "the",
  "cat",
  ",",
  "runs",
  "a",
];

function wordPiece(config: Record<string, unknown> = {}, maxLength = 512) {
  const json = wordPieceTokenizerJson(VOCAB, config);
  return new TextTokenizer(new Tokenizer(json, config), json, config, { maxLength });
}

Deno.test("tokenizer: WordPiece from vocab.txt splits unaffable into un ##aff ##able, lower-cases, [UNK]", () => {
  const tok = wordPiece();
  assert.deepEqual(tok.tokenize("Unaffable, THE cat runs xyz"), [
    "un",
    "##aff",
    "##able",
    ",",
    "the",
    "cat",
    "runs",
    "[UNK]",
  ]);
  assert.deepEqual(tok.encode("unaffable").ids, [2, 5, 6, 7, 3]);
  // do_lower_case false keeps case, so "The" is unknown.
  assert.deepEqual(wordPiece({ do_lower_case: false }).tokenize("The cat"), ["[UNK]", "cat"]);
});

Deno.test("tokenizer: pairs get token types 0 (incl. [CLS] and first [SEP]) and 1", () => {
  const e = wordPiece().encode("the cat", "a cat runs");
  assert.deepEqual(e.ids, [2, 8, 9, 3, 12, 9, 11, 3]);
  assert.deepEqual(e.typeIds, [0, 0, 0, 0, 1, 1, 1, 1]);
});

Deno.test("tokenizer: longest_first removes one token at a time from the longer sequence", () => {
  assert.deepEqual(truncateLongestFirst([1, 2, 3, 4, 5, 6], [7, 8], 5), [[1, 2, 3], [7, 8]]);
  assert.deepEqual(truncateLongestFirst([1, 2], [3, 4, 5, 6, 7], 5), [[1, 2], [3, 4, 5]]);
  // Equal lengths: the second loses first.
  assert.deepEqual(truncateLongestFirst([1, 2, 3], [4, 5, 6], 5), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(truncateLongestFirst([1, 2, 3, 4], null, 2), [[1, 2], null]);
  // maxLength 8 leaves 5 text tokens beside [CLS] [SEP] [SEP]: un ##aff ##able the cat (5) + runs runs (2).
  const e = wordPiece({}, 8).encode("unaffable the cat", "runs runs");
  assert.deepEqual(e.ids, [2, 5, 6, 7, 3, 11, 11, 3]);
  assert.deepEqual(wordPiece({}, 4).encode("the cat runs a").ids, [2, 8, 9, 3]);
});

Deno.test("tokenizer: dynamic padding to the longest in the batch", () => {
  const tok = wordPiece();
  const b = padBatch([tok.encode("the cat"), tok.encode("the", "a cat runs"), tok.encode("a")], tok.padId);
  // Longest: [CLS] the [SEP] a cat runs [SEP] = 7 tokens.
  assert.deepEqual([b.B, b.T], [3, 7]);
  assert.deepEqual([...b.inputIds.subarray(0, 7)], [2, 8, 9, 3, 0, 0, 0]);
  assert.deepEqual([...b.attentionMask.subarray(0, 7)], [1, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual([...b.tokenTypeIds.subarray(7, 14)], [0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual([...b.attentionMask.subarray(14)], [1, 1, 1, 0, 0, 0, 0]);
  assert.deepEqual([...b.inputIds.subarray(14)], [2, 12, 3, 0, 0, 0, 0]);
  assert.equal(b.labels, undefined);
});

Deno.test("tokenizer: word alignment gives the first sub-token the label, others and specials -100", () => {
  const tok = wordPiece();
  const e = tok.encodeWords(["The", "unaffable", "cat"], [1, 2, 3]);
  assert.deepEqual(e.ids, [2, 8, 5, 6, 7, 9, 3]);
  assert.deepEqual(e.wordIds, [null, 0, 1, 1, 1, 2, null]);
  assert.deepEqual(e.labels, [IGNORE_INDEX, 1, 2, IGNORE_INDEX, IGNORE_INDEX, 3, IGNORE_INDEX]);
  const short = wordPiece({}, 5).encodeWords(["The", "unaffable", "cat"], [1, 2, 3]);
  assert.deepEqual(short.labels, [IGNORE_INDEX, 1, 2, IGNORE_INDEX, IGNORE_INDEX]);
  const b = padBatch([e, short], tok.padId);
  assert.deepEqual([...b.labels!.subarray(7)], [
    IGNORE_INDEX,
    1,
    2,
    IGNORE_INDEX,
    IGNORE_INDEX,
    IGNORE_INDEX,
    IGNORE_INDEX,
  ]);
});

Deno.test("tokenizer: byte-level BPE from vocab.json + merges.txt (RoBERTa specials, <mask> lstrip)", async () => {
  const tok = await loadTokenizer(join(FIXTURES, "roberta_seq_cls"), { typeIds: false });
  assert.deepEqual(tok.tokenize("the cat"), ["the", "\u0120cat"]);
  assert.deepEqual(tok.tokenize("the movie <mask>"), ["the", "\u0120movie", "<mask>"]);
  assert.equal(tok.padId, 1);
  const e = tok.encode("the cat", "good movie");
  const id = (t: string) => tok.tokenizer.token_to_id(t)!;
  assert.deepEqual(e.ids, [0, id("the"), id("\u0120cat"), 2, 2, id("good"), id("\u0120movie"), 2]);
  assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 0, 0]);
  // Pre-split words each get a leading space, as with add_prefix_space.
  const w = tok.encodeWords(["the", "cat"], [4, 5]);
  assert.deepEqual(w.ids, [0, id("\u0120the"), id("\u0120cat"), 2]);
  assert.deepEqual(w.labels, [IGNORE_INDEX, 4, 5, IGNORE_INDEX]);
  // Building the same JSON by hand reaches the same result.
  const vocab = JSON.parse(await Deno.readTextFile(join(FIXTURES, "roberta_seq_cls", "vocab.json")));
  const merges = (await Deno.readTextFile(join(FIXTURES, "roberta_seq_cls", "merges.txt"))).trim().split(
    "\n",
  );
  assert.equal(
    (byteLevelBpeTokenizerJson(vocab, merges).model as { merges: string[] }).merges.length,
    merges.length - 1,
  );
});

Deno.test("tokenizer: the fixtures' ids come out of vocab.txt and tokenizer.json (texts, pairs, words)", async () => {
  const expected = async (name: string, key: string) => {
    const src = await openSafetensors(join(FIXTURES, name, "expected.safetensors"));
    const v = Array.from(await src.get(key));
    src.close();
    return v;
  };
  for (const name of ["bert_seq_cls", "bert_regression"]) {
    const cfg = await loadConfig(join(FIXTURES, name));
    const tok = await loadTokenizer(join(FIXTURES, name), { maxLength: cfg.maxSequenceLength });
    const inputs = JSON.parse(await Deno.readTextFile(join(FIXTURES, name, "inputs.json")));
    const encs = inputs.texts.map((t: string, i: number) => tok.encode(t, inputs.pairs?.[i] ?? null));
    const b = padBatch(encs, tok.padId);
    assert.deepEqual(Array.from(b.inputIds), await expected(name, "input_ids"), name);
    assert.deepEqual(Array.from(b.attentionMask), await expected(name, "attention_mask"), name);
    assert.deepEqual(Array.from(b.tokenTypeIds), await expected(name, "token_type_ids"), name);
  }
  const name = "electra_tok_cls";
  const tok = await loadTokenizer(join(FIXTURES, name));
  const inputs = JSON.parse(await Deno.readTextFile(join(FIXTURES, name, "inputs.json")));
  const b = padBatch(
    inputs.words.map((w: string[], i: number) => tok.encodeWords(w, inputs.word_labels[i])),
    tok.padId,
  );
  assert.deepEqual(Array.from(b.inputIds), await expected(name, "input_ids"));
  assert.deepEqual(Array.from(b.labels!), await expected(name, "labels"));
});

Deno.test("tokenizer: missing files and a too small maxLength are clear errors", async () => {
  const dir = await tempDir();
  await assert.rejects(
    () => loadTokenizer(dir),
    /no tokenizer.json, vocab.txt, or vocab.json with merges.txt/,
  );
  assert.throws(() => wordPiece({}, 3), /maxLength 3 leaves no room beside 3 special tokens/);
  assert.throws(
    () => wordPieceTokenizerJson(["[PAD]", "[UNK]", "[SEP]"]),
    /special token '\[CLS\]' is not in the vocabulary/,
  );
});
