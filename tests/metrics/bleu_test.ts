import assert from "node:assert/strict";
import { bleuFromStats, corpusBleu, tokenize13a } from "../../src/metrics/bleu.ts";
import { assertClose } from "../_util/assert_close.ts";

// Scores are 0..100; hand-derived values are formulas, so only float rounding separates them.
const close = (actual: number, expected: number, name: string) =>
  assertClose([actual], [expected], { atol: 1e-9, rtol: 0, name });

Deno.test("tokenize13a: punctuation, numbers, digit hyphens, entities", () => {
  assert.equal(tokenize13a("Hello, world!"), "Hello , world !");
  // Period and comma stay inside numbers; a final period after a digit is split by the third rule
  // (the line is padded with spaces, so the period is followed by a non-digit).
  assert.equal(tokenize13a("3.14 and 1,000 items."), "3.14 and 1,000 items .");
  assert.equal(tokenize13a("pi is 3."), "pi is 3 .");
  // " .5 ": the period follows a space (rule 2) -> "  . 5 ".
  assert.equal(tokenize13a(".5"), ". 5");
  // A dash is split only after a digit.
  assert.equal(tokenize13a("pages 1-2, well-known, -5"), "pages 1 - 2 , well-known , -5");
  assert.equal(tokenize13a("&quot;Hi&quot; &amp; &lt;b&gt;"), '" Hi " & < b >');
  // &quot; is unescaped before &amp;, so "&amp;quot;" -> "&quot;" -> "& quot ;".
  assert.equal(tokenize13a("&amp;quot;"), "& quot ;");
  assert.equal(tokenize13a("It wasn't $5/day (50%)"), "It wasn't $ 5 / day ( 50 % )");
  // <skipped> removed, "-\n" joins, "\n" is a space, whitespace collapses.
  assert.equal(tokenize13a("  <skipped>ab-\ncd\nef \t g  "), "abcd ef g");
  assert.equal(tokenize13a(""), "");
  // Python's whitespace: U+0085 (NEL) and U+001C separate tokens, U+FEFF (BOM) does not.
  assert.equal(tokenize13a("a\x85b\x1cc\ufeffd"), "a b c\ufeffd");
});

Deno.test("tokenize13a: every ASCII symbol between letters is split off except ' and -", () => {
  // Rule 1's class covers { to ~, [ to `, space to &, ( to +, : to @ and /; rules 2 and 3 split , and .
  for (let code = 0x21; code <= 0x7e; code++) {
    const ch = String.fromCharCode(code);
    if (/[0-9A-Za-z]/.test(ch)) continue;
    const expected = ch === "'" || ch === "-" ? `a${ch}b` : `a ${ch} b`;
    assert.equal(tokenize13a(`a${ch}b`), expected, `symbol ${JSON.stringify(ch)}`);
  }
});

Deno.test("corpusBleu: a perfect match is 100", () => {
  const r = corpusBleu(["The cat sat on the mat."], ["The cat sat on the mat."]);
  close(r.score, 100, "score");
  assert.deepEqual(r.precisions, [100, 100, 100, 100]);
  assert.equal(r.bp, 1);
  // 7 tokens with the final "." split off: 7, 6, 5, 4 n-grams.
  assert.deepEqual(r.counts, [7, 6, 5, 4]);
  assert.deepEqual(r.totals, [7, 6, 5, 4]);
  assert.deepEqual([r.sysLen, r.refLen], [7, 7]);
});

Deno.test("corpusBleu: brevity penalty for a short hypothesis", () => {
  // Every n-gram of the 4-token hypothesis matches (precisions 100); sys 4 < ref 6:
  // BP = exp(1 - 6/4) = exp(-1/2), score = 100 * exp(-1/2).
  const r = corpusBleu(["the cat sat on"], ["the cat sat on the mat"]);
  close(r.bp, Math.exp(-0.5), "bp");
  close(r.score, 100 * Math.exp(-0.5), "score");
  // A longer hypothesis gets no bonus: BP = 1.
  assert.equal(corpusBleu(["the cat sat on the mat today"], ["the cat sat on the mat"]).bp, 1);
});

Deno.test("corpusBleu: exp smoothing of orders without matches", () => {
  // One 4-gram, no match: counts 3 2 1 0, totals 4 3 2 1; p4 = 1 / (2^1 * 1) = 1/2.
  // score = 100 * (3/4 * 2/3 * 1/2 * 1/2)^(1/4) = 100 * (1/8)^(1/4).
  const r = corpusBleu(["this is a fest"], ["this is a test"]);
  assert.deepEqual(r.counts, [3, 2, 1, 0]);
  close(r.precisions[3], 50, "p4");
  close(r.score, 100 * (1 / 8) ** 0.25, "score");

  // a b c d e vs a b z c d: unigrams a b c d (4/5), bigrams "a b", "c d" (2/4), no trigram (0/3) or 4-gram
  // (0/2). p3 = 1 / (2 * 3), p4 = 1 / (4 * 2): the second zero order halves again.
  // score = 100 * (4/5 * 2/4 * 1/6 * 1/8)^(1/4) = 100 * (1/120)^(1/4); lengths 5 and 5, BP 1.
  const s = corpusBleu(["a b c d e"], ["a b z c d"]);
  assert.deepEqual(s.counts, [4, 2, 0, 0]);
  assert.deepEqual(s.totals, [5, 4, 3, 2]);
  close(s.precisions[2], 100 / 6, "p3");
  close(s.precisions[3], 100 / 8, "p4");
  close(s.score, 100 * (1 / 120) ** 0.25, "score");
});

Deno.test("bleuFromStats: k counts the zero orders so far, also between non-zero ones", () => {
  // p1 = 5/10, p2 = 1/(2 * 9), p3 = 2/8, p4 = 1/(4 * 7); sys 10 >= ref 10, BP 1.
  const r = bleuFromStats({ counts: [5, 0, 2, 0], totals: [10, 9, 8, 7], sysLen: 10, refLen: 10 });
  close(r.score, 100 * (1 / 2 * 1 / 18 * 1 / 4 * 1 / 28) ** 0.25, "score");
  assert.throws(
    () => bleuFromStats({ counts: [1], totals: [1], sysLen: 1, refLen: 1 }),
    /need 4 entries, got 1 and 1/,
  );
});

Deno.test("corpusBleu: counts are clipped to the reference's", () => {
  // Papineni et al.'s example: "the" x7 against a reference holding "the" twice. Unigrams 2/7 (7/7 without
  // clipping), no bigram "the the": counts 2 0 0 0, totals 7 6 5 4; sys 7 >= ref 6, BP 1.
  // score = 100 * (2/7 * 1/(2*6) * 1/(4*5) * 1/(8*4))^(1/4) = 100 * (1/26880)^(1/4).
  const r = corpusBleu(["the the the the the the the"], ["the cat is on the mat"]);
  assert.deepEqual(r.counts, [2, 0, 0, 0]);
  assert.deepEqual(r.totals, [7, 6, 5, 4]);
  close(r.score, 100 * (1 / 26880) ** 0.25, "score");
});

Deno.test("corpusBleu: statistics are summed over the corpus before the score", () => {
  // sacreBLEU's README example against its first reference set only (its 48.53 uses both sets).
  // Tokens: "The dog bit the man ." (6 / 6), "It wasn't surprising ." (4) vs "It was not unexpected ." (5),
  // "The man had just bitten him ." (7) vs "The man bit him first ." (6): sys 17 = ref 17, BP 1.
  // unigrams 6 + 2 (It .) + 4 (The man him .) = 12/17; bigrams 5 + 0 + 1 ("The man") = 6/14;
  // trigrams 4 + 0 + 0 = 4/11; 4-grams 3 + 0 + 0 = 3/8.
  const r = corpusBleu(
    ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."],
    ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
  );
  assert.deepEqual(r.counts, [12, 6, 4, 3]);
  assert.deepEqual(r.totals, [17, 14, 11, 8]);
  assert.deepEqual([r.sysLen, r.refLen], [17, 17]);
  close(r.score, 100 * ((12 / 17) * (6 / 14) * (4 / 11) * (3 / 8)) ** 0.25, "score");
});

Deno.test("corpusBleu: case-sensitive unless lowercase, trailing whitespace ignored", () => {
  assert.equal(corpusBleu(["THE CAT SAT DOWN"], ["the cat sat down"]).score, 0);
  close(corpusBleu(["THE CAT SAT DOWN"], ["the cat sat down"], { lowercase: true }).score, 100, "lc");
  close(corpusBleu(["the cat sat down \n"], ["the cat sat down"]).score, 100, "rstrip");
});

Deno.test("corpusBleu: empty hypotheses and corpora give 0", () => {
  // sys 0 < ref 2: BP 0; no matches: score 0.
  const r = corpusBleu([""], ["the cat"]);
  assert.deepEqual([r.score, r.bp, r.sysLen, r.refLen], [0, 0, 0, 2]);
  assert.deepEqual(r.precisions, [0, 0, 0, 0]);
  assert.equal(corpusBleu([], []).score, 0);
});

Deno.test("corpusBleu: bad input", () => {
  assert.throws(() => corpusBleu(["a", "b"], ["a"]), {
    name: "RangeError",
    message: "corpusBleu: 2 hypotheses but 1 references",
  });
  assert.throws(() => corpusBleu(["a"], [""]), /reference 0 is the empty string/);
  assert.throws(
    () => corpusBleu(["a"], ["a"], { tokenize: "intl" as "13a" }),
    /tokenize must be "13a" or "none", got "intl"/,
  );
});

// Cases of sacreBLEU's own tests (test/test_bleu.py, test/test_sentence_bleu.py in mjpost/sacrebleu) that
// use one reference and a setting this module has.
Deno.test("sacreBLEU test cases", () => {
  // test_bleu.py test_case_statistics; the score with exp smoothing by hand:
  // BP = exp(1 - 8/6), p = 4/6, 2/5, 1/4, 1/(2*3): product 1/90.
  const st = corpusBleu(["am I am a character sequence"], ["I am a symbol string sequence a a"]);
  assert.deepEqual(st.counts, [4, 2, 1, 0]);
  assert.deepEqual(st.totals, [6, 5, 4, 3]);
  close(st.score, 100 * Math.exp(1 - 8 / 6) * (1 / 90) ** 0.25, "statistics case");

  // test_bleu.py test_case_scoring: 0.8375922397 (sacreBLEU 1.x's 0..1 scale), EPSILON 1e-8.
  const sc = bleuFromStats({ counts: [9, 7, 5, 3], totals: [10, 8, 6, 4], sysLen: 11, refLen: 11 });
  assertClose([sc.score], [83.75922397], { atol: 1e-6, rtol: 0, name: "scoring case" });

  // test_bleu.py test_raw_bleu_cases: identical -> 1.0; no match at all -> 0.0 (#141).
  close(corpusBleu(["this is a test"], ["this is a test"]).score, 100, "raw identical");
  assert.equal(corpusBleu(["this is a test", "another test"], ["ref1", "ref2"]).score, 0);
  // test_bleu.py test_case_degenerate_stats: all counts 0 -> 0.
  assert.equal(bleuFromStats({ counts: [0, 0, 0, 0], totals: [4, 4, 2, 1], sysLen: 0, refLen: 1 }).score, 0);
  assert.equal(bleuFromStats({ counts: [0, 0, 0, 0], totals: [0, 0, 0, 0], sysLen: 0, refLen: 0 }).score, 0);

  // test_sentence_bleu.py (#98), EPSILON 1e-3: exp/13a 8.493, exp/none 7.347. Those run with effective order,
  // which changes nothing here since every order has n-grams (totals 14 13 12 11 and 13 12 11 10).
  // 13a: "alb;" -> "alb ;"; matches de zahăr în alb ; (5/14), "de zahăr" "alb ;" (2/13), none of 3 or 4:
  // 100 * (5/14 * 2/13 * 1/(2*12) * 1/(4*11))^(1/4) = 8.4931. none: de zahăr în alb; (4/13), "de zahăr" (1/12):
  // 100 * (4/13 * 1/12 * 1/(2*11) * 1/(4*10))^(1/4) = 7.3468. (ţ and ț are different letters.)
  const ref = "producţia de zahăr brut se exprimă în zahăr alb;";
  const sys = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;";
  const ro = corpusBleu([sys], [ref]);
  assertClose([ro.score], [8.493], { atol: 1e-3, rtol: 0, name: "#98 13a" });
  close(ro.score, 100 * ((5 / 14) * (2 / 13) * (1 / 24) * (1 / 44)) ** 0.25, "#98 13a by hand");
  const roNone = corpusBleu([sys], [ref], { tokenize: "none" });
  assertClose([roNone.score], [7.347], { atol: 1e-3, rtol: 0, name: "#98 none" });
  close(roNone.score, 100 * ((4 / 13) * (1 / 12) * (1 / 22) * (1 / 40)) ** 0.25, "#98 none by hand");
  // test_sentence_bleu.py (#141): no match -> 0.
  assert.equal(corpusBleu(["this is a cat"], ["okay thanks"]).score, 0);
});
