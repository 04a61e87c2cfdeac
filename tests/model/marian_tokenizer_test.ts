import assert from "node:assert/strict";
import { join } from "node:path";
import { Tokenizer } from "npm:@huggingface/tokenizers@0.2.0";
import { InputError } from "../../src/io/input_error.ts";
import { loadMarianTokenizers, marianTokenizerJson } from "../../src/model/marian_tokenizer.ts";
import { readSpmModel } from "../../src/model/spm.ts";
import { loadTokenizer, TextTokenizer } from "../../src/model/tokenizer.ts";
import { tempDir } from "../_util/tmp.ts";

// Written by scripts/make_spm_fixtures.py with the sentencepiece library: what transformers' MarianTokenizer gives.
const DIR = new URL("../fixtures/marian_spm/", import.meta.url).pathname;
interface Case {
  text: string;
  pieces: string[];
  ids: number[];
  decoded: string;
}
const EXPECTED: Record<"source" | "target" | "keep_spaces", Case[]> = JSON.parse(
  await Deno.readTextFile(join(DIR, "expected.json")),
);
const VOCAB: Record<string, number> = JSON.parse(await Deno.readTextFile(join(DIR, "vocab.json")));
const FILES = ["source.spm", "target.spm", "vocab.json", "tokenizer_config.json"];

/** Every case whose ids differ, with what the library tokenized, so one failure shows all of them. */
function idMismatches(tok: TextTokenizer, cases: Case[]) {
  return cases.flatMap((c) => {
    const ids = tok.encode(c.text).ids;
    return JSON.stringify(ids) === JSON.stringify(c.ids)
      ? []
      : [{ text: c.text, ids, expected: c.ids, tokens: tok.tokenize(c.text), pieces: c.pieces }];
  });
}

function decodeMismatches(tok: TextTokenizer, cases: Case[]) {
  return cases.flatMap((c) => {
    const decoded = tok.tokenizer.decode(c.ids, { skip_special_tokens: true });
    return decoded === c.decoded ? [] : [{ text: c.text, decoded, expected: c.decoded }];
  });
}

const isInputError = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
  assert.match(e.message, pattern);
  return true;
};

/** A copy of the fixture's files in a fresh folder, `edit` applied to it. */
async function fixtureCopy(edit: (dir: string) => Promise<void> = async () => {}, files = FILES) {
  const dir = await tempDir("marian_spm_");
  for (const f of files) await Deno.copyFile(join(DIR, f), join(dir, f));
  await edit(dir);
  return dir;
}

Deno.test("marian tokenizer: source ids equal MarianTokenizer's (sentencepiece) for every sentence", async () => {
  const tok = (await loadMarianTokenizers(DIR))!;
  assert.equal(EXPECTED.source.length, 26);
  assert.deepEqual(idMismatches(tok.source, EXPECTED.source), []);
});

Deno.test("marian tokenizer: target ids equal MarianTokenizer's (sentencepiece) for every sentence", async () => {
  const tok = (await loadMarianTokenizers(DIR))!;
  assert.equal(EXPECTED.target.length, 25);
  assert.deepEqual(idMismatches(tok.target, EXPECTED.target), []);
});

Deno.test("marian tokenizer: decoding equals MarianTokenizer.decode(skip_special_tokens) on both sides", async () => {
  const tok = (await loadMarianTokenizers(DIR))!;
  assert.deepEqual(decodeMismatches(tok.source, EXPECTED.source), []);
  assert.deepEqual(decodeMismatches(tok.target, EXPECTED.target), []);
});

Deno.test("marian tokenizer: unknown characters follow MarianTokenizer's vocab.json lookup of the surface", async () => {
  const tok = (await loadMarianTokenizers(DIR))!;
  // 'ă' is no source piece; sentencepiece returns it as an unknown piece whose text vocab.json has (a target
  // piece), so MarianTokenizer gives the target piece's id; a run of unknown characters is one <unk>.
  const [unk, eos] = [VOCAB["<unk>"], VOCAB["</s>"]];
  assert.deepEqual(tok.source.encode("ă").ids, [VOCAB["\u2581"], VOCAB["ă"], eos]);
  assert.deepEqual(tok.source.encode("ăș").ids, [VOCAB["\u2581"], unk, eos]);
  assert.deepEqual(tok.source.encode("ж").ids, [VOCAB["\u2581"], unk, eos]);
  // No foreign entry of two or more characters is ever produced by either side.
  const spmOf = async (f: string) => readSpmModel(await Deno.readFile(join(DIR, f)));
  for (const [side, file] of [["source", "source.spm"], ["target", "target.spm"]] as const) {
    const own = new Set((await spmOf(file)).pieces.map((p) => p.piece));
    for (const c of EXPECTED[side]) {
      const foreign = tok[side].tokenize(c.text).filter((t) =>
        [...t].length > 1 && !own.has(t) && t in VOCAB
      );
      assert.deepEqual(foreign, c.text.startsWith(">>ro<<") ? [">>ro<<"] : [], c.text);
    }
  }
});

Deno.test("marian tokenizer: a pair is $A $B </s>, type ids 0; truncation keeps </s>", async () => {
  const tok = (await loadMarianTokenizers(DIR, { maxLength: 6 }))!;
  const [a, b] = [EXPECTED.source[0], EXPECTED.source[25]]; // "The cat ..." and "a"
  const pair = tok.source.encode("a", "a");
  assert.deepEqual(pair.ids, [...b.ids.slice(0, -1), ...b.ids]);
  assert.deepEqual(pair.typeIds, pair.ids.map(() => 0));
  assert.deepEqual(tok.source.encode(a.text).ids, [...a.ids.slice(0, 5), VOCAB["</s>"]]);
  assert.equal(tok.source.padId, VOCAB["<pad>"]);
});

Deno.test("marian tokenizer: a model that keeps spaces (remove_extra_whitespaces false) converts exactly", async () => {
  const file = join(DIR, "keep_spaces.spm");
  const spm = readSpmModel(await Deno.readFile(file), { file });
  assert.equal(spm.normalizer.removeExtraWhitespaces, false);
  assert.equal(spm.normalizer.name, "identity");
  // Its own piece list as the vocabulary (ids = SentencePiece ids), <pad> appended.
  const vocab = Object.fromEntries(spm.pieces.map((p, i) => [p.piece, i]));
  vocab["<pad>"] = spm.pieces.length;
  const json = marianTokenizerJson(spm, vocab, { file });
  const config = { pad_token: "<pad>", clean_up_tokenization_spaces: false };
  const tok = new TextTokenizer(new Tokenizer(json, config), json, config);
  assert.deepEqual(idMismatches(tok, EXPECTED.keep_spaces), []);
  assert.deepEqual(decodeMismatches(tok, EXPECTED.keep_spaces), []);
});

Deno.test("marian tokenizer: the tokenizer.json it builds reloads through loadTokenizer with the same ids", async () => {
  const tok = (await loadMarianTokenizers(DIR))!;
  // What saving a fine-tuned checkpoint writes: the target side's tokenizer.json and config.
  const dir = await tempDir("marian_saved_");
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(tok.target.json));
  await Deno.writeTextFile(join(dir, "tokenizer_config.json"), JSON.stringify(tok.target.config));
  const reloaded = await loadTokenizer(dir);
  assert.deepEqual(idMismatches(reloaded, EXPECTED.target), []);
  assert.deepEqual(decodeMismatches(reloaded, EXPECTED.target), []);
});

Deno.test("marian tokenizer: without target.spm and tokenizer_config.json both sides use source.spm", async () => {
  const dir = await fixtureCopy(undefined, ["source.spm", "vocab.json"]);
  const tok = (await loadMarianTokenizers(dir))!;
  assert.deepEqual(idMismatches(tok.target, EXPECTED.source), []);
  assert.equal(tok.target.padId, VOCAB["<pad>"]);
  assert.equal(await loadMarianTokenizers(await tempDir("empty_")), null);
  assert.equal(await loadMarianTokenizers(await fixtureCopy(undefined, ["source.spm"])), null);
});

Deno.test("readSpmModel: pieces, types, model type and normalizer of the fixture models", async () => {
  const src = readSpmModel(await Deno.readFile(join(DIR, "source.spm")));
  assert.equal(src.modelType, "unigram");
  assert.deepEqual(src.pieces.slice(0, 3).map((p) => [p.piece, p.type]), [
    ["<unk>", "unknown"],
    ["<s>", "control"],
    ["</s>", "control"],
  ]);
  assert.equal(src.pieces.length, 240);
  assert.ok(src.pieces.slice(3).every((p) => p.type === "normal" && p.score < 0));
  assert.deepEqual([src.unkId, src.bosId, src.eosId, src.padId], [0, 1, 2, -1]);
  assert.equal(src.byteFallback, false);
  assert.equal(src.normalizer.name, "user_defined");
  assert.ok(src.normalizer.precompiledCharsmap.length > 100);
  assert.deepEqual(
    [src.normalizer.addDummyPrefix, src.normalizer.removeExtraWhitespaces, src.normalizer.escapeWhitespaces],
    [true, true, true],
  );
  const bpe = readSpmModel(await Deno.readFile(join(DIR, "bpe.spm")));
  assert.equal(bpe.modelType, "bpe");
});

Deno.test("readSpmModel: truncated or invalid protobuf is an InputError naming the file", async () => {
  const bytes = await Deno.readFile(join(DIR, "source.spm"));
  for (const cut of [1, 2, 100, bytes.length >> 1, bytes.length - 1]) {
    assert.throws(
      () => readSpmModel(bytes.subarray(0, cut), { file: "x/source.spm" }),
      isInputError(/^x\/source\.spm: not a SentencePiece model \((truncated|field length)/),
      `cut at ${cut}`,
    );
  }
  assert.throws(
    () => readSpmModel(new Uint8Array(0), { file: "e.spm" }),
    isInputError(/e\.spm: .*no pieces/),
  );
  const text = new TextEncoder().encode('{"not": "protobuf"}');
  assert.throws(
    () => readSpmModel(text, { file: "t.spm" }),
    isInputError(/^t\.spm: not a SentencePiece model/),
  );
  // A piece whose text is not UTF-8: field 1 (pieces) holding field 1 (piece) = the byte 0xff.
  const badUtf8 = new Uint8Array([0x0a, 0x03, 0x0a, 0x01, 0xff]);
  assert.throws(() => readSpmModel(badUtf8, { file: "u.spm" }), isInputError(/not UTF-8/));
});

Deno.test("marian tokenizer: a BPE model, a vocab.json with a gap or without </s> is an InputError", async () => {
  const bpeDir = await fixtureCopy((d) => Deno.copyFile(join(DIR, "bpe.spm"), join(d, "source.spm")));
  await assert.rejects(loadMarianTokenizers(bpeDir), isInputError(/source\.spm: a BPE SentencePiece model/));

  const gapped = { ...VOCAB };
  delete gapped["▁the"];
  const gapDir = await fixtureCopy((d) => Deno.writeTextFile(join(d, "vocab.json"), JSON.stringify(gapped)));
  await assert.rejects(
    loadMarianTokenizers(gapDir),
    isInputError(new RegExp(`vocab\\.json: no piece has id ${VOCAB["▁the"]} \\(ids must run from 0 to`)),
  );

  const spm = readSpmModel(await Deno.readFile(join(DIR, "source.spm")));
  const noEos = Object.fromEntries(Object.entries(VOCAB).map(([p, i]) => [p === "</s>" ? "<eos>" : p, i]));
  assert.throws(
    () => marianTokenizerJson(spm, noEos, { file: "s.spm" }),
    isInputError(/no id for the token '<\/s>'/),
  );
  const dup = { ...VOCAB, extra: 5 };
  assert.throws(() => marianTokenizerJson(spm, dup, { file: "s.spm" }), isInputError(/id 5 is given to/));

  const separate = await fixtureCopy((d) =>
    Deno.writeTextFile(join(d, "tokenizer_config.json"), JSON.stringify({ separate_vocabs: true }))
  );
  await assert.rejects(loadMarianTokenizers(separate), isInputError(/separate_vocabs/));
});
