/**
 * Tokenizers of real OPUS-MT checkpoints, which ship no tokenizer.json but transformers' `MarianTokenizer`
 * files: `source.spm` and `target.spm` (SentencePiece Unigram models), `vocab.json` (one piece -> id map shared
 * by both sides, ids unrelated to the SentencePiece ids) and `tokenizer_config.json`. `MarianTokenizer` encodes a
 * source text with source.spm into pieces, maps each piece through vocab.json (a missing piece to `<unk>`'s id)
 * and appends `</s>`; targets likewise with target.spm; it decodes ids back to pieces through vocab.json and
 * joins them as SentencePiece does (`▁` -> space).
 *
 * {@link marianTokenizerJson} writes one side as the tokenizer.json that @huggingface/tokenizers loads: a
 * Unigram model whose vocabulary is vocab.json in id order with this side's SentencePiece scores, and the
 * normalizer / pre-tokenizer / decoder that transformers' `SpmConverter` derives from the model's
 * NormalizerSpec. The segmentation itself stays with the library.
 *
 * @module
 */

import { Tokenizer } from "npm:@huggingface/tokenizers@0.2.0";
import { join } from "node:path";
import { InputError } from "../io/input_error.ts";
import { readSpmModel, type SpmModel } from "./spm.ts";
import { TextTokenizer, type TextTokenizerOptions } from "./tokenizer.ts";
import { tokenContent } from "./tokenizer_json.ts";

/** Options of {@link marianTokenizerJson}. */
export interface MarianTokenizerJsonOptions {
  /** The .spm file, named in errors about the model. */
  file: string;
  /** The vocab.json file, named in errors about the vocabulary (default "vocab.json"). */
  vocabFile?: string;
  /** Default `</s>`. */
  eosToken?: string;
  /** Default `<unk>`. */
  unkToken?: string;
  /** Default `<pad>`. */
  padToken?: string;
}

/** The two sides of a Marian checkpoint's tokenizer. */
export interface MarianTokenizers {
  /** Encodes source texts (source.spm). */
  source: TextTokenizer;
  /** Encodes target texts and decodes generated ids (target.spm, else source.spm). */
  target: TextTokenizer;
}

const SPACE = "\u2581";
const FLT_MIN = 1.1754943508222875e-38;

/** vocab.json as a list indexed by id; every id from 0 to the largest must be there exactly once. */
function vocabList(vocab: Record<string, number>, file: string): string[] {
  const list: string[] = [];
  for (const [piece, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || id < 0) {
      throw new InputError(`${file}: '${piece}' has id ${JSON.stringify(id)}, expected an integer >= 0`);
    }
    if (list[id] !== undefined) {
      throw new InputError(`${file}: id ${id} is given to '${list[id]}' and '${piece}'`);
    }
    list[id] = piece;
  }
  for (let id = 0; id < list.length; id++) {
    if (list[id] === undefined) {
      throw new InputError(`${file}: no piece has id ${id} (ids must run from 0 to ${list.length - 1})`);
    }
  }
  return list;
}

/** Characters for a regex class in Oniguruma syntax (which the library translates): `\x{HHHH}` each, sorted. */
const escapeChars = (chars: string[]) =>
  chars.map((c) => c.codePointAt(0)!).sort((a, b) => a - b).map((cp) =>
    `\\x{${cp.toString(16).toUpperCase()}}`
  )
    .join("");

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * The tokenizer.json (as an object) of one side of a Marian tokenizer: `spm` segments, `vocab` (vocab.json)
 * gives the ids. Throws an {@link InputError} for a model that is not Unigram or uses options the library cannot
 * reproduce (byte fallback, whitespace as suffix, unescaped whitespace), and for a vocab.json whose ids have
 * gaps or that lacks the `</s>` or `<unk>` token.
 *
 * @example
 * ```ts
 * import { Tokenizer } from "npm:@huggingface/tokenizers@0.2.0";
 * import { marianTokenizerJson } from "./src/model/marian_tokenizer.ts";
 * import { readSpmModel } from "./src/model/spm.ts";
 * const dir = "tests/fixtures/marian_spm";
 * const spm = readSpmModel(await Deno.readFile(`${dir}/source.spm`));
 * const vocab = JSON.parse(await Deno.readTextFile(`${dir}/vocab.json`));
 * const json = marianTokenizerJson(spm, vocab, { file: `${dir}/source.spm` });
 * console.log(new Tokenizer(json, {}).encode("The cat.").ids.at(-1)); // 0 (</s>)
 * ```
 */
export function marianTokenizerJson(
  spm: SpmModel,
  vocab: Record<string, number>,
  o: MarianTokenizerJsonOptions,
): Record<string, unknown> {
  const vocabFile = o.vocabFile ?? "vocab.json";
  const nz = spm.normalizer;
  if (spm.modelType !== "unigram") {
    throw new InputError(
      `${o.file}: a ${spm.modelType.toUpperCase()} SentencePiece model; only Unigram converts`,
    );
  }
  if (spm.byteFallback) throw new InputError(`${o.file}: byte_fallback is not supported (no byte pieces)`);
  if (spm.treatWhitespaceAsSuffix) {
    throw new InputError(`${o.file}: treat_whitespace_as_suffix is not supported`);
  }
  if (!nz.escapeWhitespaces) throw new InputError(`${o.file}: escape_whitespaces false is not supported`);
  const pieces = vocabList(vocab, vocabFile);
  const idOf = (token: string) => {
    const id = vocab[token];
    if (id === undefined) throw new InputError(`${vocabFile}: no id for the token '${token}'`);
    return id;
  };
  const eos = o.eosToken ?? "</s>";
  const unk = o.unkToken ?? "<unk>";
  const pad = o.padToken ?? "<pad>";
  const eosId = idOf(eos);
  const unkId = idOf(unk);

  // What this model's own Viterbi search (sentencepiece unigram_model.cc) may use: normal pieces with their
  // scores, user-defined ones with its bonus; control, unknown, unused and byte pieces never take part.
  const normal = spm.pieces.filter((p) => p.type === "normal");
  const minScore = normal.reduce((m, p) => Math.min(m, p.score), Infinity);
  const maxScore = normal.reduce((m, p) => Math.max(m, p.score), FLT_MIN);
  const own = new Map<string, number>();
  for (const p of spm.pieces) {
    if (p.type === "normal") own.set(p.piece, p.score);
    else if (p.type === "user_defined") own.set(p.piece, [...p.piece].length * maxScore + 1);
  }
  // MarianTokenizer looks every piece up in vocab.json, also the surface text that SentencePiece returns for a
  // run of characters without a one-character piece in this model (it merges such a run into one <unk> piece):
  // a single unknown character that vocab.json has (a letter of the other language) gets that entry's id, a
  // longer run <unk>'s. The library's Unigram (like the Rust one) puts EVERY vocabulary entry in its trie and
  // inserts an <unk> node at a character only when no one-character entry matches there, with the score
  // (lowest score) - 10. So the entries this model lacks (the other language's pieces, </s>, <pad>) are kept to
  // exactly those single characters: (1) the normalizer replaces each run of two or more unknown characters, and
  // each unknown character that occurs in vocab.json only inside longer entries, by STAND, a character that no
  // entry contains, which becomes one <unk> node; (2) one-character foreign entries score `base`, the lowest piece
  // score or -1, and longer foreign entries F = base * (Lmax + 1): the characters of such an entry of L <= Lmax
  // characters are all one-character entries now, so spelling it one entry per character scores at least
  // L * base > F, and a path through a longer foreign entry always loses. <unk>'s score becomes F - 10 instead of
  // SentencePiece's minScore - 10; no entry contains the characters left to <unk> nodes, so every path has the
  // same <unk> nodes and this changes no choice.
  const alphabet = new Set([...own.keys()].filter((p) => [...p].length === 1));
  const entries = new Set(pieces);
  const base = Math.min(minScore, -1);
  const foreign = pieces.filter((p) => !own.has(p));
  const maxForeignLen = foreign.reduce((m, p) => Math.max(m, [...p].length), 1);
  const foreignScore = (p: string) => [...p].length === 1 ? base : base * (maxForeignLen + 1);
  const inEntries = new Set(pieces.flatMap((p) => [...p]));
  const lone = [...inEntries].filter((c) => !alphabet.has(c) && !entries.has(c) && c !== " ");
  let stand = 0xe000;
  while (inEntries.has(String.fromCodePoint(stand))) stand++;
  const STAND = String.fromCodePoint(stand);

  const normalizers: Record<string, unknown>[] = [];
  if (nz.precompiledCharsmap.length > 0) {
    // The library's Precompiled ignores the charsmap and applies NFKC with nmt_nfkc's whitespace and control
    // character rules; the charsmap is kept for the Rust library.
    normalizers.push({ type: "Precompiled", precompiled_charsmap: base64(nz.precompiledCharsmap) });
    // The case-folding rules fold case inside the charsmap, which the library does not read.
    if (nz.name.endsWith("_cf")) normalizers.push({ type: "Lowercase" });
  }
  const known = escapeChars([...alphabet, " "]);
  normalizers.push({ type: "Replace", pattern: { Regex: `[^${known}]{2,}` }, content: STAND });
  if (lone.length > 0) {
    normalizers.push({ type: "Replace", pattern: { Regex: `[${escapeChars(lone)}]` }, content: STAND });
  }
  // SentencePiece's normalizer: drop leading and trailing spaces, collapse runs; then the dummy prefix, which
  // Metaspace adds ("always": unless the text starts with ▁) or, when spaces are kept, Prepend does.
  if (nz.removeExtraWhitespaces) {
    normalizers.push({ type: "Replace", pattern: { Regex: "\\A +| +\\z" }, content: "" });
    normalizers.push({ type: "Replace", pattern: { Regex: " {2,}" }, content: " " });
  } else if (nz.addDummyPrefix) normalizers.push({ type: "Prepend", prepend: SPACE });
  // Splitting at ▁ changes nothing when no piece has ▁ inside (split_by_whitespace).
  const split = ![...own.keys()].some((p) => p.lastIndexOf(SPACE) > 0);
  const metaspace = (prepend: boolean) => ({
    type: "Metaspace",
    replacement: SPACE,
    prepend_scheme: prepend ? "always" : "never",
    split,
  });

  // MarianTokenizer.decode strips the joined text. Pieces of a model that removes extra whitespace never give
  // edge spaces, but a skipped <unk> after a bare "▁" piece at either end does ("ж x" -> ▁ ж ▁x -> " x"). (A Strip
  // decoder would do, but the Rust one panics on an empty text before tokenizers 0.23.3 or so.)
  const strip = [{ type: "Fuse" }, { type: "Replace", pattern: { Regex: "\\A +| +\\z" }, content: "" }];
  const added = (content: string, special: boolean) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special,
  });
  const specials = [...new Set([eos, unk, pad])].filter((t) => vocab[t] !== undefined);
  // Multilingual models' target-language codes (>>ron<<) are whole tokens, as MarianTokenizer splits them off.
  const codes = pieces.filter((p) => p.startsWith(">>") && p.endsWith("<<") && !own.has(p));
  const seq = (id: "A" | "B") => ({ Sequence: { id, type_id: 0 } });
  const end = { SpecialToken: { id: eos, type_id: 0 } };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [...specials.map((t) => added(t, true)), ...codes.map((t) => added(t, false))]
      .sort((a, b) => a.id - b.id),
    normalizer: normalizers.length > 0 ? { type: "Sequence", normalizers } : null,
    pre_tokenizer: metaspace(nz.addDummyPrefix && nz.removeExtraWhitespaces),
    post_processor: {
      type: "TemplateProcessing",
      single: [seq("A"), end],
      pair: [seq("A"), seq("B"), end],
      special_tokens: { [eos]: { id: eos, ids: [eosId], tokens: [eos] } },
    },
    decoder: nz.removeExtraWhitespaces
      ? { type: "Sequence", decoders: [metaspace(nz.addDummyPrefix), ...strip] }
      : metaspace(nz.addDummyPrefix),
    model: {
      type: "Unigram",
      unk_id: unkId,
      vocab: pieces.map((p) => [p, own.get(p) ?? foreignScore(p)]),
      byte_fallback: false,
    },
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new InputError(`${path}: not a JSON object`);
  }
  return v as Record<string, unknown>;
}

/**
 * Loads the tokenizers of a Marian checkpoint that has `source.spm` and `vocab.json` (OPUS-MT's files), the
 * target side from `target.spm` (source.spm when there is none); null when the directory lacks those files.
 * tokenizer_config.json is optional; without a pad token `<pad>` is used, and decoding leaves spaces before
 * punctuation as they are (`clean_up_tokenization_spaces` false, as SentencePiece decodes) unless it says so.
 *
 * @example
 * ```ts
 * import { loadMarianTokenizers } from "./src/model/marian_tokenizer.ts";
 * const tok = (await loadMarianTokenizers("tests/fixtures/marian_spm"))!;
 * const ids = tok.target.encode("Pisica stă.").ids;
 * console.log(tok.target.tokenizer.decode(ids, { skip_special_tokens: true })); // Pisica stă.
 * ```
 */
export async function loadMarianTokenizers(
  dir: string,
  options: TextTokenizerOptions = {},
): Promise<MarianTokenizers | null> {
  const sourceFile = join(dir, "source.spm");
  const vocabFile = join(dir, "vocab.json");
  if (!(await isFile(sourceFile)) || !(await isFile(vocabFile))) return null;
  const configFile = join(dir, "tokenizer_config.json");
  const config = (await isFile(configFile)) ? await readJsonObject(configFile) : {};
  if (config.separate_vocabs === true) {
    throw new InputError(`${configFile}: separate_vocabs (a target_vocab.json) is not supported`);
  }
  const vocab = await readJsonObject(vocabFile) as Record<string, number>;
  const targetFile = (await isFile(join(dir, "target.spm"))) ? join(dir, "target.spm") : sourceFile;
  const cfg: Record<string, unknown> = {
    ...config,
    pad_token: config.pad_token ?? "<pad>",
    clean_up_tokenization_spaces: config.clean_up_tokenization_spaces ?? false,
  };
  const side = async (file: string) => {
    const spm = readSpmModel(await Deno.readFile(file), { file });
    const json = marianTokenizerJson(spm, vocab, {
      file,
      vocabFile,
      eosToken: tokenContent(config.eos_token),
      unkToken: tokenContent(config.unk_token),
      padToken: tokenContent(cfg.pad_token),
    });
    return new TextTokenizer(new Tokenizer(json, cfg), json, cfg, options);
  };
  return { source: await side(sourceFile), target: await side(targetFile) };
}
