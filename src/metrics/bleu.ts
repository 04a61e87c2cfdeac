/**
 * Corpus-level BLEU with sacreBLEU's defaults (`BLEU()`: tokenizer 13a, mixed case, n-grams 1..4, smoothing
 * `exp`, no effective order, score in 0..100), for one reference per hypothesis: the score translation papers
 * report, so a fine-tuned model can be compared with published numbers.
 *
 * Followed line by line from sacreBLEU 2.x (mjpost/sacrebleu): `tokenizers/tokenizer_13a.py` and
 * `tokenizers/tokenizer_re.py` as of v2.0.0 (commit 880ce6fe), `metrics/bleu.py` (`compute_bleu`,
 * `_preprocess_segment`, `_compute_segment_statistics`) and `metrics/helpers.py`
 * (`extract_all_word_ngrams`) of the 2.x series; these are unchanged in substance up to 2.6.0, whose
 * results this module reproduces on randomized corpora (punctuation, entities, digits, Unicode whitespace).
 * Python's notion of whitespace (`str.split()`, `str.rstrip()`) is reproduced exactly, which differs from
 * JavaScript's `\s` in a few code points (U+001C..U+001F and U+0085 are whitespace, U+FEFF is not).
 *
 * @module
 */

/** Sufficient statistics of corpus BLEU: summed over segments, they give the corpus score. */
export interface BleuStats {
  /** Clipped n-gram matches, n = 1..4. */
  counts: number[];
  /** Hypothesis n-grams, n = 1..4. */
  totals: number[];
  /** Hypothesis tokens. */
  sysLen: number;
  /** Reference tokens. */
  refLen: number;
}

/** Corpus BLEU as sacreBLEU reports it. */
export interface BleuResult extends BleuStats {
  /** BLEU, 0..100. */
  score: number;
  /** n-gram precisions in percent (smoothed where a count is 0), n = 1..4. */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
}

/** Options of `corpusBleu`. */
export interface BleuOptions {
  /** Lowercase hypotheses and references first (sacreBLEU `lowercase`, `-lc`); default false. */
  lowercase?: boolean;
  /** `13a` (default, mteval-v13a) or `none` (split on whitespace only). */
  tokenize?: "13a" | "none";
}

const MAX_ORDER = 4;

// Python's str.isspace() set, which str.split() and str.rstrip() use.
const PY_WS = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_WS_RUN = new RegExp(`[${PY_WS}]+`, "u");
const PY_WS_TRAIL = new RegExp(`[${PY_WS}]+$`, "u");

/** Python's `s.split()`: runs of whitespace separate, no empty tokens. */
function pySplit(s: string): string[] {
  return s.split(PY_WS_RUN).filter((t) => t !== "");
}

// tokenizer_re.py's TokenizerRegexp, in order. The first class is r'([\{-\~\[-\` -\&\(-\+\:-\@\/])' spelled
// with code points ({-~, [-`, space-&, (-+, :-@, /): every ASCII symbol except ' , - . is split off.
// The `u` flag makes [^0-9] take a whole code point, as Python's str regexps do.
const REGEXPS: readonly [RegExp, string][] = [
  [/([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/gu, " $1 "],
  // period and comma unless preceded by a digit
  [/([^0-9])([.,])/gu, "$1 $2 "],
  // period and comma unless followed by a digit
  [/([.,])([^0-9])/gu, " $1 $2"],
  // dash when preceded by a digit
  [/([0-9])(-)/gu, "$1 $2 "],
];

/**
 * sacreBLEU's `13a` tokenizer (mteval-v13a): tokens of one line joined by single spaces.
 *
 * @example
 * ```ts
 * import { tokenize13a } from "./bleu.ts";
 * console.log(tokenize13a("It costs $3.14 (1,000 pages)."));
 * // It costs $ 3.14 ( 1,000 pages ) .
 * ```
 */
export function tokenize13a(line: string): string {
  let s = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  // Order as in tokenizer_13a.py: "&amp;quot;" becomes "&quot;", not '"'.
  s = s.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  s = ` ${s} `;
  for (const [re, repl] of REGEXPS) s = s.replace(re, repl);
  return pySplit(s).join(" ");
}

/** n-gram counts of a token list, one map per order n = 1..4, keyed by the tokens joined by spaces. */
function ngramCounts(tokens: readonly string[]): Map<string, number>[] {
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= MAX_ORDER; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(" ");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    out.push(counts);
  }
  return out;
}

/** sacreBLEU's `my_log`: log, with log(0) floored to -9999999999. */
const myLog = (x: number) => (x === 0 ? -9999999999 : Math.log(x));

/**
 * BLEU from summed statistics with `exp` smoothing, sacreBLEU's `compute_bleu`: useful to add up the
 * statistics of several shards before scoring.
 *
 * @example
 * ```ts
 * import { bleuFromStats } from "./bleu.ts";
 * const r = bleuFromStats({ counts: [9, 7, 5, 3], totals: [10, 8, 6, 4], sysLen: 11, refLen: 11 });
 * console.log(r.score.toFixed(4)); // 83.7592
 * ```
 */
export function bleuFromStats({ counts, totals, sysLen, refLen }: BleuStats): BleuResult {
  if (counts.length !== MAX_ORDER || totals.length !== MAX_ORDER) {
    throw new RangeError(
      `bleuFromStats: counts and totals need ${MAX_ORDER} entries, got ${counts.length} and ${totals.length}`,
    );
  }
  const stats = { counts: [...counts], totals: [...totals], sysLen, refLen };
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(MAX_ORDER).fill(0);
  // No match of any order: 0 without smoothing (sacreBLEU #141).
  if (counts.every((c) => c === 0)) return { score: 0, precisions, bp, ...stats };
  let smooth = 1;
  for (let n = 0; n < MAX_ORDER; n++) {
    // No n-grams of this order (all segments shorter than n + 1): this and higher precisions stay 0.
    if (totals[n] === 0) break;
    if (counts[n] === 0) {
      // exp smoothing (mteval-v13a): the k-th order without matches gets 1 / (2^k * total).
      smooth *= 2;
      precisions[n] = 100 / (smooth * totals[n]);
    } else {
      precisions[n] = (100 * counts[n]) / totals[n];
    }
  }
  const score = bp * Math.exp(precisions.reduce((s, p) => s + myLog(p), 0) / MAX_ORDER);
  return { score, precisions, bp, ...stats };
}

/**
 * Corpus BLEU of hypotheses against one reference each, with sacreBLEU's defaults: 13a tokenization,
 * case-sensitive, clipped n-gram counts (n = 1..4) and lengths summed over the corpus, `exp` smoothing.
 * Throws a RangeError when the lengths differ or a reference is the empty string (sacreBLEU rejects it too).
 *
 * @example
 * ```ts
 * import { corpusBleu } from "./bleu.ts";
 * const r = corpusBleu(["The cat sat on the mat."], ["The cat sat on the mat."]);
 * console.log(r.score.toFixed(2), r.bp); // 100.00 1
 * ```
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly string[],
  { lowercase = false, tokenize = "13a" }: BleuOptions = {},
): BleuResult {
  if (hypotheses.length !== references.length) {
    throw new RangeError(`corpusBleu: ${hypotheses.length} hypotheses but ${references.length} references`);
  }
  if (tokenize !== "13a" && tokenize !== "none") {
    throw new RangeError(`corpusBleu: tokenize must be "13a" or "none", got ${JSON.stringify(tokenize)}`);
  }
  // sacreBLEU's _preprocess_segment: lowercase, strip trailing whitespace, tokenize.
  const tokens = (line: string) => {
    const s = (lowercase ? line.toLowerCase() : line).replace(PY_WS_TRAIL, "");
    return pySplit(tokenize === "13a" ? tokenize13a(s) : s);
  };
  const counts = new Array<number>(MAX_ORDER).fill(0);
  const totals = new Array<number>(MAX_ORDER).fill(0);
  let sysLen = 0;
  let refLen = 0;
  for (let i = 0; i < hypotheses.length; i++) {
    if (references[i] === "") throw new RangeError(`corpusBleu: reference ${i} is the empty string`);
    const hyp = tokens(hypotheses[i]);
    const ref = tokens(references[i]);
    sysLen += hyp.length;
    refLen += ref.length;
    const refCounts = ngramCounts(ref);
    ngramCounts(hyp).forEach((hypCounts, n) => {
      // Clipping: an n-gram matches at most as often as the reference holds it.
      for (const [ngram, c] of hypCounts) {
        totals[n] += c;
        counts[n] += Math.min(c, refCounts[n].get(ngram) ?? 0);
      }
    });
  }
  return bleuFromStats({ counts, totals, sysLen, refLen });
}
