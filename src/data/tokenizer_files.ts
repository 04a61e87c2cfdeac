/**
 * The files of a BERT WordPiece tokenizer in Hugging Face's formats: `vocab.txt` (one token per line, id
 * order), `tokenizer.json` (the `tokenizers` library's serialisation: BertNormalizer, BertPreTokenizer,
 * TemplateProcessing `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B:1 [SEP]:1`, WordPiece decoder and model) and
 * `tokenizer_config.json` (for `transformers`' `BertTokenizer`).
 *
 * @module
 */

import { CONTINUATION, SPECIAL_TOKENS } from "./wordpiece.ts";
import { InputError } from "../io/input_error.ts";

/** Options of the tokenizer files. */
export interface TokenizerFileOptions {
  /** Whether the normalizer lower-cases (and strips accents). */
  lowercase: boolean;
  /** `model_max_length` of tokenizer_config.json (default 512). */
  modelMaxLength?: number;
}

function specialId(tokens: readonly string[], token: string): number {
  const id = tokens.indexOf(token);
  if (id < 0) throw new InputError(`special token ${token} is missing from the vocabulary`);
  return id;
}

/** `vocab.txt`: one token per line in id order, trailing newline. */
export function vocabTxt(tokens: readonly string[]): string {
  const bad = tokens.find((t) => /[\r\n]/.test(t) || t === "");
  if (bad !== undefined) throw new InputError(`token ${JSON.stringify(bad)} cannot be written to vocab.txt`);
  return tokens.join("\n") + "\n";
}

/**
 * The `tokenizer.json` object of a BERT WordPiece tokenizer over `tokens`.
 *
 * @example
 * ```ts
 * import { tokenizerJson } from "./tokenizer_files.ts";
 * const json = tokenizerJson(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##b"], { lowercase: true });
 * console.log(json.model.vocab["##b"]); // 6
 * ```
 */
export function tokenizerJson(tokens: readonly string[], options: TokenizerFileOptions) {
  const cls = specialId(tokens, "[CLS]"), sep = specialId(tokens, "[SEP]");
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: "A" | "B", typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: specialId(tokens, content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: options.lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)],
      pair: [
        special("[CLS]", 0),
        sequence("A", 0),
        special("[SEP]", 0),
        sequence("B", 1),
        special("[SEP]", 1),
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [cls], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [sep], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: CONTINUATION, cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: CONTINUATION,
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** The `tokenizer_config.json` object (for `BertTokenizer` / `BertTokenizerFast`). */
export function tokenizerConfig(tokens: readonly string[], options: TokenizerFileOptions) {
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const content of SPECIAL_TOKENS) {
    addedTokensDecoder[String(specialId(tokens, content))] = {
      content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  }
  return {
    added_tokens_decoder: addedTokensDecoder,
    clean_up_tokenization_spaces: true,
    cls_token: "[CLS]",
    do_basic_tokenize: true,
    do_lower_case: options.lowercase,
    mask_token: "[MASK]",
    model_max_length: options.modelMaxLength ?? 512,
    never_split: null,
    pad_token: "[PAD]",
    sep_token: "[SEP]",
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: "BertTokenizer",
    unk_token: "[UNK]",
  };
}
