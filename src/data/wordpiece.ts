/**
 * WordPiece vocabulary training the way Hugging Face's `WordPieceTrainer` does it (it wraps the BPE trainer):
 * words are counted after BERT normalisation and pre-tokenisation; the vocabulary starts with the special tokens,
 * then the alphabet (characters seen at least `minFrequency` times, in code point order), then the `##c`
 * continuation forms of characters met inside words; then the most frequent adjacent pair of pieces (ties: the
 * pair of smaller ids) is merged repeatedly, `a + ##b -> ab` and `##a + ##b -> ##ab`, until the vocabulary has
 * `vocabSize` tokens or no pair occurs `minFrequency` times. Pair counts are updated incrementally from the
 * words that contain the merged pair (a lazy max-heap holds the candidates), never recounted.
 *
 * One deliberate difference: Hugging Face visits words in hash-map order, so the ids of `##c` tokens (and hence
 * tie-breaks) vary run to run; here words are visited in code-unit order of their text, so training is
 * deterministic.
 *
 * @module
 */

import { bertNormalize, type BertNormalizerOptions, bertPreTokenize } from "./bert_text.ts";

/** The special tokens, with ids 0..4 in this order (BERT's own vocab has [PAD]=0, [UNK]=100, ...). */
export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** The prefix of continuation pieces. */
export const CONTINUATION = "##";

/**
 * Adds the words of `text` (normalised and pre-tokenised as BERT does) to `counts`.
 *
 * @example
 * ```ts
 * import { countWords } from "./wordpiece.ts";
 * const counts = new Map<string, number>();
 * countWords("The cat. The hat!", { lowercase: true }, counts);
 * console.log(counts.get("the"), counts.get(".")); // 2 1
 * ```
 */
export function countWords(text: string, options: BertNormalizerOptions, counts: Map<string, number>): void {
  for (const w of bertPreTokenize(bertNormalize(text, options))) counts.set(w, (counts.get(w) ?? 0) + 1);
}

/** Options of `trainWordPiece`. */
export interface WordPieceTrainOptions {
  /** Target vocabulary size, special tokens included. */
  vocabSize: number;
  /** Minimum count of an alphabet character and of a merged pair (default 2). */
  minFrequency?: number;
}

/** A trained vocabulary. */
export interface WordPieceVocab {
  /** Tokens in id order. */
  tokens: string[];
  /** Number of merges performed. */
  merges: number;
  /** Alphabet size (characters kept). */
  alphabet: number;
}

const PAIR = 2 ** 21; // pair key = a * PAIR + b keeps (a, b) order and stays below 2^53

/** Max-heap of (count, key) with ties broken towards the smaller key (the pair of smaller ids). */
class PairHeap {
  #keys: number[] = [];
  #counts: number[] = [];
  get size(): number {
    return this.#keys.length;
  }
  #above(i: number, j: number): boolean {
    const c = this.#counts;
    return c[i] > c[j] || (c[i] === c[j] && this.#keys[i] < this.#keys[j]);
  }
  #swap(i: number, j: number): void {
    [this.#keys[i], this.#keys[j]] = [this.#keys[j], this.#keys[i]];
    [this.#counts[i], this.#counts[j]] = [this.#counts[j], this.#counts[i]];
  }
  push(key: number, count: number): void {
    this.#keys.push(key);
    this.#counts.push(count);
    for (let i = this.#keys.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.#above(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }
  pop(): { key: number; count: number } {
    const top = { key: this.#keys[0], count: this.#counts[0] };
    const lastKey = this.#keys.pop()!, lastCount = this.#counts.pop()!;
    if (this.#keys.length > 0) {
      this.#keys[0] = lastKey;
      this.#counts[0] = lastCount;
      for (let i = 0;;) {
        const l = 2 * i + 1, r = l + 1;
        let best = i;
        if (l < this.#keys.length && this.#above(l, best)) best = l;
        if (r < this.#keys.length && this.#above(r, best)) best = r;
        if (best === i) break;
        this.#swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/**
 * Merges every non-overlapping occurrence (left to right) of (a, b) in `word` into `ab`, reporting the pair
 * count changes exactly as tokenizers' `Word::merge` does.
 */
function mergeWord(
  word: number[],
  a: number,
  b: number,
  ab: number,
  change: (key: number, d: number) => void,
) {
  for (let i = 0; i < word.length - 1; i++) {
    if (word[i] !== a || word[i + 1] !== b) continue;
    if (i > 0) {
      change(word[i - 1] * PAIR + a, -1);
      change(word[i - 1] * PAIR + ab, 1);
    }
    word.splice(i, 2, ab);
    if (i < word.length - 1) {
      change(ab * PAIR + word[i + 1], 1);
      change(b * PAIR + word[i + 1], -1);
    }
  }
}

/**
 * Trains a WordPiece vocabulary on word counts (from `countWords`).
 *
 * @example
 * ```ts
 * import { countWords, trainWordPiece } from "./wordpiece.ts";
 * const counts = new Map<string, number>();
 * countWords("low lower lowest low low", { lowercase: true }, counts);
 * const vocab = trainWordPiece(counts, { vocabSize: 20, minFrequency: 1 });
 * console.log(vocab.tokens.slice(0, 5)); // ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
 * ```
 */
export function trainWordPiece(
  counts: ReadonlyMap<string, number>,
  options: WordPieceTrainOptions,
): WordPieceVocab {
  const minFrequency = options.minFrequency ?? 2;
  if (!(Number.isInteger(options.vocabSize) && options.vocabSize > SPECIAL_TOKENS.length)) {
    throw new RangeError(`vocabSize ${options.vocabSize}: need an integer > ${SPECIAL_TOKENS.length}`);
  }
  const tokens: string[] = [...SPECIAL_TOKENS];
  const ids = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const add = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.push(t) - 1;
      ids.set(t, id);
    }
    return id;
  };
  const entries = [...counts].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const charCounts = new Map<string, number>();
  for (const [w, n] of entries) for (const c of w) charCounts.set(c, (charCounts.get(c) ?? 0) + n);
  const alphabet = [...charCounts].filter(([, n]) => n >= minFrequency).map(([c]) => c)
    .sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!);
  alphabet.forEach(add);

  // Words as id sequences; characters outside the alphabet are dropped, as the BPE trainer does.
  const words: number[][] = [];
  const wordCounts: number[] = [];
  for (const [w, n] of entries) {
    const word: number[] = [];
    let first = true;
    for (const c of w) {
      if (ids.has(c)) word.push(add(first ? c : CONTINUATION + c));
      first = false;
    }
    words.push(word);
    wordCounts.push(n);
  }

  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  words.forEach((word, wi) => {
    for (let i = 0; i < word.length - 1; i++) {
      const key = word[i] * PAIR + word[i + 1];
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + wordCounts[wi]);
      const set = where.get(key);
      if (set) set.add(wi);
      else where.set(key, new Set([wi]));
    }
  });
  const heap = new PairHeap();
  for (const [key, n] of pairCounts) if (n > 0) heap.push(key, n);

  let merges = 0;
  while (tokens.length < options.vocabSize && heap.size > 0) {
    const top = heap.pop();
    const current = pairCounts.get(top.key) ?? 0;
    if (top.count !== current) {
      if (current > 0) heap.push(top.key, current); // stale entry: requeue with the true count
      continue;
    }
    if (top.count < 1 || top.count < minFrequency) break;
    const a = Math.floor(top.key / PAIR), b = top.key % PAIR;
    const partB = tokens[b].startsWith(CONTINUATION) ? tokens[b].slice(CONTINUATION.length) : tokens[b];
    const ab = add(tokens[a] + partB);
    if (ab >= PAIR) throw new RangeError(`vocabulary id ${ab} exceeds the pair key range ${PAIR}`);
    merges++;
    const grown = new Set<number>();
    for (const wi of where.get(top.key) ?? []) {
      mergeWord(words[wi], a, b, ab, (key, d) => {
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + d * wordCounts[wi]);
        if (d > 0) {
          grown.add(key);
          const set = where.get(key);
          if (set) set.add(wi);
          else where.set(key, new Set([wi]));
        }
      });
    }
    pairCounts.delete(top.key);
    where.delete(top.key);
    for (const key of grown) {
      const n = pairCounts.get(key) ?? 0;
      if (n > 0) heap.push(key, n);
    }
  }
  return { tokens, merges, alphabet: alphabet.length };
}
