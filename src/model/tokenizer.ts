/**
 * Tokenization for fine-tuning: @huggingface/tokenizers loaded from a checkpoint's tokenizer files, plus what
 * that library leaves out: truncation (`longest_first`), dynamic padding per batch and word-to-token label
 * alignment for token classification.
 *
 * @module
 */
import { Tokenizer } from "npm:@huggingface/tokenizers@0.2.0";
import { join } from "node:path";
import { byteLevelBpeTokenizerJson, tokenContent, wordPieceTokenizerJson } from "./tokenizer_json.ts";
import { InputError } from "../io/input_error.ts";

/** Label of tokens that no loss is computed on (special tokens, later sub-tokens of a word, padding). */
export const IGNORE_INDEX = -100;

/** One encoded example. */
export interface Encoding {
  ids: number[];
  /** Segment of each token: 0 for the first text with [CLS] and its [SEP], 1 for the second. */
  typeIds: number[];
  /** Word index of each token for pre-split words; null for special tokens. */
  wordIds?: (number | null)[];
  /** Token labels (for token classification), {@link IGNORE_INDEX} where no loss applies. */
  labels?: number[];
}

/** A padded batch, row-major (B, T). */
export interface Batch {
  B: number;
  T: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  /** Token labels (B, T) when every encoding has labels. */
  labels?: Int32Array;
}

/** Options of {@link TextTokenizer}. */
export interface TextTokenizerOptions {
  /** Longest encoding including special tokens (default 512). */
  maxLength?: number;
  /** Emit segment ids (false: all zero, as RoBERTa with type_vocab_size 1 expects; default true). */
  typeIds?: boolean;
}

/**
 * Truncates a text (and optional pair) to `budget` tokens in all by removing one token at a time from the end of
 * the longer sequence (from the second when both are equal): Hugging Face's `longest_first` rule.
 */
export function truncateLongestFirst<T>(a: T[], b: T[] | null, budget: number): [T[], T[] | null] {
  let na = a.length;
  let nb = b?.length ?? 0;
  if (budget < 0) throw new RangeError(`truncation budget ${budget} is negative`);
  while (na + nb > budget) {
    if (b !== null && nb >= na) nb--;
    else na--;
  }
  return [a.slice(0, na), b === null ? null : b.slice(0, nb)];
}

/** A loaded tokenizer that encodes texts, text pairs and pre-split words into ids. */
export class TextTokenizer {
  readonly maxLength: number;
  readonly padId: number;
  readonly #typeIds: boolean;
  readonly #byteLevel: boolean;
  readonly #unkId: number | undefined;

  /** Wraps the library's tokenizer built from a tokenizer.json object and tokenizer_config.json object. */
  constructor(
    readonly tokenizer: Tokenizer,
    readonly json: Record<string, unknown>,
    readonly config: Record<string, unknown>,
    options: TextTokenizerOptions = {},
  ) {
    this.maxLength = options.maxLength ?? 512;
    this.#typeIds = options.typeIds ?? true;
    const pre = JSON.stringify(json.pre_tokenizer ?? null);
    this.#byteLevel = pre.includes(`"ByteLevel"`);
    // The unknown token: by name (WordPiece, BPE) or, in a Unigram model, by its index in the vocabulary.
    const model = json.model as { unk_token?: string | null; unk_id?: number | null } | undefined;
    this.#unkId = model?.unk_token
      ? tokenizer.token_to_id(model.unk_token)
      : typeof model?.unk_id === "number"
      ? model.unk_id
      : undefined;
    // Without a configured pad token: BERT's [PAD], else the <pad> of byte-level BPE and SentencePiece vocabularies.
    const pad = tokenContent(config.pad_token) ??
      (this.#byteLevel || tokenizer.token_to_id("[PAD]") === undefined ? "<pad>" : "[PAD]");
    const padId = tokenizer.token_to_id(pad);
    if (padId === undefined) throw new InputError(`tokenizer: pad token '${pad}' is not in the vocabulary`);
    this.padId = padId;
    const budgetPair = this.#post([], []).length;
    if (budgetPair >= this.maxLength) {
      throw new RangeError(`maxLength ${this.maxLength} leaves no room beside ${budgetPair} special tokens`);
    }
  }

  /** Tokens of one text without special tokens. */
  tokenize(text: string): string[] {
    return this.tokenizer.tokenize(text, { add_special_tokens: false });
  }

  /**
   * Encodes a text or a pair, truncated (longest_first) to `maxLength` tokens including special tokens.
   *
   * @example
   * ```ts
   * import { loadTokenizer } from "./src/model/tokenizer.ts";
   * const tok = await loadTokenizer("tests/fixtures/bert_seq_cls", { maxLength: 16 });
   * console.log(tok.encode("the cat", "a dog").typeIds); // [ 0, 0, 0, 0, 1, 1, 1 ]
   * ```
   */
  encode(text: string, pair: string | null = null): Encoding {
    const a = this.tokenize(text);
    const b = pair === null ? null : this.tokenize(pair);
    const [ta, tb] = truncateLongestFirst(a, b, this.maxLength - this.#post([], b && []).length);
    const { tokens, typeIds } = this.#postWithMarks(ta, tb);
    return { ids: tokens.map((t) => this.#id(t)), typeIds };
  }

  /**
   * Encodes pre-split words (token classification): each word is tokenized on its own (byte-level BPE with a
   * space before each word, like transformers' `is_split_into_words` with `add_prefix_space`); with
   * `wordLabels`, the first sub-token of a word carries its label, the others and special tokens -100.
   */
  encodeWords(words: readonly string[], wordLabels?: readonly number[]): Encoding {
    if (wordLabels && wordLabels.length !== words.length) {
      throw new RangeError(`${wordLabels.length} labels for ${words.length} words`);
    }
    const pieces: { token: string; word: number }[] = [];
    words.forEach((w, word) => {
      for (const token of this.tokenize(this.#byteLevel ? ` ${w}` : w)) pieces.push({ token, word });
    });
    const [kept] = truncateLongestFirst(pieces, null, this.maxLength - this.#post([], null).length);
    const { tokens, typeIds } = this.#postWithMarks(kept, null);
    const wordIds = tokens.map((t) => (typeof t === "string" ? null : t.word));
    const ids = tokens.map((t) => this.#id(typeof t === "string" ? t : t.token));
    const out: Encoding = { ids, typeIds, wordIds };
    if (wordLabels) {
      out.labels = wordIds.map((w, i) => (w === null || wordIds[i - 1] === w ? IGNORE_INDEX : wordLabels[w]));
    }
    return out;
  }

  #id(token: string): number {
    const id = this.tokenizer.token_to_id(token) ?? this.#unkId;
    if (id === undefined) {
      throw new Error(`tokenizer: token '${token}' has no id and there is no unknown token`);
    }
    return id;
  }

  #post(a: string[], b: string[] | null): string[] {
    const pp = this.tokenizer.post_processor;
    return pp ? pp(a, b, true).tokens : [...a, ...(b ?? [])];
  }

  /** Runs the post-processor on placeholders so that text tokens are told apart from the special tokens. */
  #postWithMarks<T>(a: T[], b: T[] | null): { tokens: (string | T)[]; typeIds: number[] } {
    const marks = new Map<string, T>();
    const mark = (side: string) => (x: T, i: number) => {
      const key = `\u0000${side}${i}`;
      marks.set(key, x);
      return key;
    };
    const ma = a.map(mark("a"));
    const mb = b?.map(mark("b")) ?? null;
    const pp = this.tokenizer.post_processor;
    const res = pp ? pp(ma, mb, true) : { tokens: [...ma, ...(mb ?? [])], token_type_ids: undefined };
    const tokens = res.tokens.map((t) => (marks.has(t) ? marks.get(t)! : t));
    const typeIds = this.#typeIds && res.token_type_ids ? res.token_type_ids : tokens.map(() => 0);
    return { tokens, typeIds };
  }
}

/**
 * Pads encodings to the longest in the batch, or to `length` where that is longer: pad id and type 0 after the
 * text, attention mask 1 on tokens and 0 on padding, labels -100 on padding.
 */
export function padBatch(encodings: readonly Encoding[], padId: number, length = 0): Batch {
  const B = encodings.length;
  const T = Math.max(1, length, ...encodings.map((e) => e.ids.length));
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Int32Array(B * T);
  const tokenTypeIds = new Int32Array(B * T);
  const withLabels = B > 0 && encodings.every((e) => e.labels);
  const labels = withLabels ? new Int32Array(B * T).fill(IGNORE_INDEX) : undefined;
  encodings.forEach((e, b) => {
    inputIds.set(e.ids, b * T);
    tokenTypeIds.set(e.typeIds, b * T);
    attentionMask.fill(1, b * T, b * T + e.ids.length);
    if (labels) labels.set(e.labels!, b * T);
  });
  return { B, T, inputIds, attentionMask, tokenTypeIds, ...(labels ? { labels } : {}) };
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  const text = await Deno.readTextFile(path).catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

const lines = (text: string) => text.replace(/\r?\n$/, "").split(/\r?\n/);

/**
 * Loads the tokenizer of a checkpoint directory: tokenizer.json if present, else one built from vocab.txt
 * (WordPiece) or vocab.json + merges.txt (byte-level BPE); tokenizer_config.json is optional.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "./src/model/tokenizer.ts";
 * const tok = await loadTokenizer("tests/fixtures/bert_seq_cls");
 * console.log(tok.encode("the cat").ids.length); // 4
 * ```
 */
export async function loadTokenizer(dir: string, options: TextTokenizerOptions = {}): Promise<TextTokenizer> {
  const config = (await readJson(join(dir, "tokenizer_config.json"))) ?? {};
  let json = await readJson(join(dir, "tokenizer.json"));
  if (!json) {
    const vocabTxt = await Deno.readTextFile(join(dir, "vocab.txt")).catch(() => null);
    const vocabJson = await readJson(join(dir, "vocab.json"));
    const merges = await Deno.readTextFile(join(dir, "merges.txt")).catch(() => null);
    if (vocabTxt !== null) json = wordPieceTokenizerJson(lines(vocabTxt), config, join(dir, "vocab.txt"));
    else if (vocabJson && merges !== null) {
      json = byteLevelBpeTokenizerJson(
        vocabJson as Record<string, number>,
        lines(merges),
        config,
        join(dir, "vocab.json"),
      );
    } else {
      throw new InputError(`${dir}: no tokenizer.json, vocab.txt, or vocab.json with merges.txt`);
    }
  }
  return new TextTokenizer(new Tokenizer(json, config), json, config, options);
}
