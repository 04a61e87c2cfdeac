/**
 * Builds the `tokenizer.json` that Hugging Face's fast tokenizers would write for a checkpoint that ships only
 * the slow tokenizer's files: `vocab.txt` (BERT/ELECTRA WordPiece) or `vocab.json` + `merges.txt` (RoBERTa
 * byte-level BPE). The structure mirrors what `transformers`' converters (convert_slow_tokenizer.py) produce, so
 * the tokenization itself stays with @huggingface/tokenizers.
 *
 * @module
 */

import { InputError } from "../io/input_error.ts";

/** A token from tokenizer_config.json: a plain string or an AddedToken object `{content, ...}`. */
export function tokenContent(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as { content?: unknown }).content === "string") {
    return (v as { content: string }).content;
  }
  return undefined;
}

function addedTokens(
  vocab: Map<string, number>,
  specials: (string | undefined)[],
  lstrip = new Set<string>(),
) {
  const seen = new Set<string>();
  const out = [];
  for (const content of specials) {
    if (content === undefined || seen.has(content) || !vocab.has(content)) continue;
    seen.add(content);
    out.push({
      id: vocab.get(content)!,
      content,
      single_word: false,
      lstrip: lstrip.has(content),
      rstrip: false,
      normalized: false,
      special: true,
    });
  }
  return out.sort((a, b) => a.id - b.id);
}

function require(vocab: Map<string, number>, token: string, file: string): number {
  const id = vocab.get(token);
  if (id === undefined) throw new InputError(`${file}: special token '${token}' is not in the vocabulary`);
  return id;
}

/**
 * tokenizer.json of a BERT WordPiece tokenizer from the lines of `vocab.txt` (line i = token id i) and the
 * tokenizer_config.json fields `do_lower_case` (default true), `strip_accents`, `tokenize_chinese_chars` and the
 * special tokens (`[UNK]`, `[CLS]`, `[SEP]`, `[PAD]`, `[MASK]` by default).
 *
 * @example
 * ```ts
 * import { Tokenizer } from "npm:@huggingface/tokenizers@0.2.0";
 * import { wordPieceTokenizerJson } from "./src/model/tokenizer_json.ts";
 * const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able"];
 * const tok = new Tokenizer(wordPieceTokenizerJson(vocab), {});
 * console.log(tok.tokenize("Unaffable")); // [ "un", "##aff", "##able" ]
 * ```
 */
export function wordPieceTokenizerJson(
  lines: readonly string[],
  config: Record<string, unknown> = {},
  file = "vocab.txt",
): Record<string, unknown> {
  const vocab = new Map<string, number>();
  lines.forEach((t, i) => vocab.set(t, i));
  const tok = (key: string, dflt: string) => tokenContent(config[key]) ?? dflt;
  const unk = tok("unk_token", "[UNK]");
  const cls = tok("cls_token", "[CLS]");
  const sep = tok("sep_token", "[SEP]");
  const clsId = require(vocab, cls, file);
  const sepId = require(vocab, sep, file);
  require(vocab, unk, file);
  const specials = [tok("pad_token", "[PAD]"), unk, cls, sep, tok("mask_token", "[MASK]")];
  const extra = Array.isArray(config.additional_special_tokens) ? config.additional_special_tokens : [];
  const seg = (id: "A" | "B", type_id: number) => ({ Sequence: { id, type_id } });
  const special = (id: string, type_id: number) => ({ SpecialToken: { id, type_id } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens(vocab, [...specials, ...extra.map(tokenContent)]),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: config.tokenize_chinese_chars ?? true,
      strip_accents: config.strip_accents ?? null,
      lowercase: config.do_lower_case ?? true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [special(cls, 0), seg("A", 0), special(sep, 0)],
      pair: [special(cls, 0), seg("A", 0), special(sep, 0), seg("B", 1), special(sep, 1)],
      special_tokens: {
        [cls]: { id: cls, ids: [clsId], tokens: [cls] },
        [sep]: { id: sep, ids: [sepId], tokens: [sep] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

/**
 * tokenizer.json of a RoBERTa byte-level BPE tokenizer from `vocab.json` (token -> id), the lines of
 * `merges.txt` (a `#version` line first) and tokenizer_config.json (`add_prefix_space`, special tokens `<s>`,
 * `</s>`, `<unk>`, `<pad>`, `<mask>` by default; `<mask>` strips the space before it, as in RoBERTa).
 */
export function byteLevelBpeTokenizerJson(
  vocabJson: Record<string, number>,
  mergeLines: readonly string[],
  config: Record<string, unknown> = {},
  file = "vocab.json",
): Record<string, unknown> {
  const vocab = new Map(Object.entries(vocabJson));
  const tok = (key: string, dflt: string) => tokenContent(config[key]) ?? dflt;
  const bos = tok("cls_token", tok("bos_token", "<s>"));
  const eos = tok("sep_token", tok("eos_token", "</s>"));
  const mask = tok("mask_token", "<mask>");
  const addPrefixSpace = config.add_prefix_space ?? false;
  const merges = mergeLines.filter((l) => l.length > 0 && !l.startsWith("#version")).map((l) => {
    const parts = l.split(" ");
    if (parts.length !== 2) {
      throw new InputError(`merges.txt: line '${l}' is not two tokens separated by one space`);
    }
    return l;
  });
  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: addPrefixSpace,
    trim_offsets: true,
    use_regex: true,
  };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens(
      vocab,
      [bos, tok("pad_token", "<pad>"), eos, tok("unk_token", "<unk>"), mask],
      new Set([mask]),
    ),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: {
      type: "RobertaProcessing",
      sep: [eos, require(vocab, eos, file)],
      cls: [bos, require(vocab, bos, file)],
      trim_offsets: true,
      add_prefix_space: addPrefixSpace,
    },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab: vocabJson,
      merges,
    },
  };
}
