import assert from "node:assert/strict";
import { Tokenizer } from "npm:@huggingface/tokenizers@0.2.0";
import { bertNormalize, bertPreTokenize, isBertPunctuation } from "../../src/data/bert_text.ts";
import { countWords, SPECIAL_TOKENS, trainWordPiece } from "../../src/data/wordpiece.ts";
import { tokenizerConfig, tokenizerJson, vocabTxt } from "../../src/data/tokenizer_files.ts";

Deno.test("BERT normalisation: control chars, whitespace, CJK, accents, lower case", () => {
  const lower = { lowercase: true };
  assert.equal(bertNormalize("Héllo\tWORLD\u0000\u200b!\r\n", lower), "hello world!  ");
  assert.equal(bertNormalize("Crème Brûlée ÅNGSTRÖM", lower), "creme brulee angstrom");
  assert.equal(bertNormalize("ab中文c", lower), "ab 中  文 c");
  assert.equal(bertNormalize("\ufffdx\u00a0y", lower), "x y"); // U+FFFD dropped, NBSP -> space
  // cased: accents and case kept, text still cleaned and CJK spaced
  assert.equal(bertNormalize("Crème\u0007 中", { lowercase: false }), "Crème  中 ");
  // accents can be stripped without lower-casing
  assert.equal(bertNormalize("Crème", { lowercase: false, stripAccents: true }), "Creme");
});

Deno.test("BERT pre-tokenisation: whitespace splits, every punctuation char is a word", () => {
  assert.deepEqual(bertPreTokenize("Hello, world... $5"), ["Hello", ",", "world", ".", ".", ".", "$", "5"]);
  assert.deepEqual(bertPreTokenize("a^b`c|d~e+f"), ["a", "^", "b", "`", "c", "|", "d", "~", "e", "+", "f"]);
  assert.deepEqual(bertPreTokenize("ago\u2014never «oui»\u3000x"), [
    "ago",
    "\u2014",
    "never",
    "«",
    "oui",
    "»",
    "x",
  ]);
  assert.deepEqual(bertPreTokenize("don't"), ["don", "'", "t"]);
  assert.deepEqual(bertPreTokenize("  \t "), []);
  assert.ok(
    isBertPunctuation("$") && isBertPunctuation("\u2014") && !isBertPunctuation("a") &&
      !isBertPunctuation("€"),
  );
});

function counts(pairs: [string, number][]): Map<string, number> {
  return new Map(pairs);
}

Deno.test("merges on a hand-made corpus give the vocabulary worked out by hand", () => {
  const corpus = counts([["hug", 10], ["pug", 5], ["pun", 12], ["bun", 4], ["hugs", 5]]);
  // alphabet b g h n p s u; ## forms in word order bun, hug, hugs; merges ##ug(20) ##un(16) hug(15) pun(12),
  // then the tie at 5 goes to the pair of smaller ids (p, ##ug) before (hug, ##s), then bun(4)
  const full = trainWordPiece(corpus, { vocabSize: 100, minFrequency: 1 });
  assert.deepEqual(full.tokens, [
    ...SPECIAL_TOKENS,
    ..."bghnpsu",
    "##u",
    "##n",
    "##g",
    "##s",
    "##ug",
    "##un",
    "hug",
    "pun",
    "pug",
    "hugs",
    "bun",
  ]);
  assert.equal(full.merges, 7);
  // the target size stops training early
  assert.deepEqual(
    trainWordPiece(corpus, { vocabSize: 20, minFrequency: 1 }).tokens,
    full.tokens.slice(0, 20),
  );
  // min frequency 5: "b" (4) leaves the alphabet, so bun is trained as ##u ##n; no pair below 5 is merged
  const min5 = trainWordPiece(corpus, { vocabSize: 100, minFrequency: 5 });
  assert.deepEqual(min5.tokens, [
    ...SPECIAL_TOKENS,
    ..."ghnpsu",
    "##u",
    "##n",
    "##g",
    "##s",
    "##ug",
    "##un",
    "hug",
    "pun",
    "pug",
    "hugs",
  ]);
});

Deno.test("overlapping pairs merge left to right with exact pair-count updates", () => {
  // a ##a ##a ##a: (##a, ##a) x2 -> a ##aa ##a; tie (a, ##aa) vs (##aa, ##a) -> aaa; then aaaa
  const v = trainWordPiece(counts([["aaaa", 1]]), { vocabSize: 50, minFrequency: 1 });
  assert.deepEqual(v.tokens, [...SPECIAL_TOKENS, "a", "##a", "##aa", "aaa", "aaaa"]);
});

Deno.test("training is deterministic and independent of the order words were counted in", () => {
  const text = "the quick brown fox jumps over the lazy dog; the dog sleeps. Quick, quicker, quickest!";
  const a = new Map<string, number>(), b = new Map<string, number>();
  countWords(text, { lowercase: true }, a);
  for (const w of text.split(" ").reverse()) countWords(w, { lowercase: true }, b);
  assert.deepEqual(
    trainWordPiece(a, { vocabSize: 60, minFrequency: 1 }),
    trainWordPiece(b, { vocabSize: 60, minFrequency: 1 }),
  );
  assert.equal(a.get("the"), 3);
  assert.equal(a.get("quick"), 2);
});

Deno.test("bad vocab sizes and tokens are refused with the value named", () => {
  assert.throws(() => trainWordPiece(new Map(), { vocabSize: 5 }), /vocabSize 5/);
  assert.throws(() => vocabTxt(["a", "b\nc"]), /"b\\nc"/);
});

Deno.test("tokenizer.json loads in @huggingface/tokenizers and encodes with the trained vocabulary", () => {
  const lines = [
    "The whale swam near the ship. The whale was white, and the whale was old.",
    "Whales and ships: the ship sailed; the whale followed the ship.",
    "A harpooneer threw his harpoon at the white whale; unbelievable!",
  ];
  const wordCounts = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    for (const line of lines.slice(0, 2)) countWords(line, { lowercase: true }, wordCounts);
  }
  countWords(lines[2], { lowercase: true }, wordCounts); // seen once: the rare words
  const vocab = trainWordPiece(wordCounts, { vocabSize: 120, minFrequency: 2 });
  const tokens = vocab.tokens;
  const lineOf = vocabTxt(tokens).split("\n");
  const tk = new Tokenizer(
    tokenizerJson(tokens, { lowercase: true }),
    tokenizerConfig(tokens, { lowercase: true }),
  );

  const enc = tk.encode("The WHALE, Swallowed");
  assert.equal(enc.tokens[0], "[CLS]");
  assert.equal(enc.tokens.at(-1), "[SEP]");
  assert.deepEqual(enc.ids.slice(0, 1).concat(enc.ids.slice(-1)), [2, 3]);
  assert.equal(enc.tokens[1], "the"); // frequent word: one token
  assert.equal(enc.tokens[2], "whale");
  assert.equal(enc.tokens[3], ",");
  // an unseen word of known characters splits into a bare piece and ## pieces
  const pieces = enc.tokens.slice(4, -1);
  assert.ok(
    pieces.length > 1 && !pieces[0].startsWith("##") && pieces.slice(1).every((p) => p.startsWith("##")),
  );
  assert.equal(pieces.map((p) => p.replace(/^##/, "")).join(""), "swallowed");
  enc.ids.forEach((id, i) => assert.equal(lineOf[id], enc.tokens[i], `id ${id} is line ${id} of vocab.txt`));
  // a character never seen makes the word unknown
  assert.deepEqual(tk.encode("zebra").tokens, ["[CLS]", "[UNK]", "[SEP]"]);
  // pairs: [CLS] A [SEP] B [SEP] with type ids 0 then 1
  const pair = tk.encode("the ship", { text_pair: "the whale", return_token_type_ids: true });
  assert.deepEqual(pair.tokens, ["[CLS]", "the", "ship", "[SEP]", "the", "whale", "[SEP]"]);
  assert.deepEqual(pair.token_type_ids, [0, 0, 0, 0, 1, 1, 1]);
  assert.equal(
    tk.decode(tk.encode("the swallowed harpoon").ids, { skip_special_tokens: true }),
    "the swallowed harpoon",
  );
});

Deno.test("a cased tokenizer keeps case and accents", () => {
  const wordCounts = new Map<string, number>();
  for (let i = 0; i < 5; i++) countWords("Café Paris café", { lowercase: false }, wordCounts);
  const tokens = trainWordPiece(wordCounts, { vocabSize: 40, minFrequency: 1 }).tokens;
  assert.ok(tokens.includes("Café") && tokens.includes("café"));
  const tk = new Tokenizer(
    tokenizerJson(tokens, { lowercase: false }),
    tokenizerConfig(tokens, { lowercase: false }),
  );
  assert.deepEqual(tk.encode("Café café").tokens, ["[CLS]", "Café", "café", "[SEP]"]);
});
