/**
 * BERT's text normalisation and pre-tokenisation, as the Hugging Face `tokenizers` crate does them
 * (`BertNormalizer` and `BertPreTokenizer`), for training a WordPiece vocabulary on the same words the tokenizer
 * will later see.
 *
 * @module
 */

/** Options of `bertNormalize` (the fields of Hugging Face's `BertNormalizer`). */
export interface BertNormalizerOptions {
  /** Lower-case the text. */
  lowercase: boolean;
  /** Strip accents (NFD, then drop non-spacing marks); default: same as `lowercase`. */
  stripAccents?: boolean;
  /** Drop control characters, NUL and U+FFFD; map every whitespace to a space (default true). */
  cleanText?: boolean;
  /** Put spaces around CJK ideographs so each becomes a word (default true). */
  handleChineseChars?: boolean;
}

// Control characters (Unicode category C: Cc, Cf, Cs, Co, Cn) and U+FFFD; \t \n \r are whitespace instead.
const CONTROL = /[\p{C}\uFFFD]/gu;
const WHITESPACE = /\p{White_Space}/gu;
// The ranges of `is_chinese_char` in tokenizers' bert normalizer.
const CJK =
  /[\u4E00-\u9FFF\u3400-\u4DBF\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\uF900-\uFAFF\u{2F800}-\u{2FA1F}]/gu;
const NONSPACING_MARK = /\p{Mn}/gu;

/**
 * BERT normalisation, in the order of `BertNormalizer`: clean text, space out CJK ideographs, strip accents,
 * lower-case.
 *
 * @example
 * ```ts
 * import { bertNormalize } from "./bert_text.ts";
 * console.log(bertNormalize("Héllo\tWORLD\u0000!", { lowercase: true })); // "hello world!"
 * ```
 */
export function bertNormalize(text: string, options: BertNormalizerOptions): string {
  let t = text;
  if (options.cleanText ?? true) {
    t = t.replace(CONTROL, (c) => (c === "\t" || c === "\n" || c === "\r" ? " " : "")).replace(
      WHITESPACE,
      " ",
    );
  }
  if (options.handleChineseChars ?? true) t = t.replace(CJK, " $& ");
  if (options.stripAccents ?? options.lowercase) t = t.normalize("NFD").replace(NONSPACING_MARK, "");
  if (options.lowercase) t = t.toLowerCase();
  return t;
}

// BERT punctuation: ASCII punctuation (33-47, 58-64, 91-96, 123-126, which includes symbols such as $ + < = >)
// or any Unicode punctuation (category P).
const PUNCT = String.raw`!-\/:-@\[-\x60{-~\p{P}`;
const PRE_TOKEN = new RegExp(String.raw`[${PUNCT}]|[^${PUNCT}\p{White_Space}]+`, "gu");
const IS_PUNCT = new RegExp(String.raw`^[${PUNCT}]$`, "u");

/** Whether `ch` (one code point) is punctuation for BERT. */
export function isBertPunctuation(ch: string): boolean {
  return IS_PUNCT.test(ch);
}

/**
 * BERT pre-tokenisation: split on whitespace (dropped) and isolate every punctuation character as its own word.
 *
 * @example
 * ```ts
 * import { bertPreTokenize } from "./bert_text.ts";
 * console.log(bertPreTokenize("Hello, world... $5")); // ["Hello", ",", "world", ".", ".", ".", "$", "5"]
 * ```
 */
export function bertPreTokenize(text: string): string[] {
  return text.match(PRE_TOKEN) ?? [];
}
