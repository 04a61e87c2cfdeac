/**
 * Token-classification examples from CoNLL-2003 style files: one token per line with whitespace-separated
 * columns (token first, NER tag last by default), blank lines between sentences, `-DOCSTART-` lines dropped.
 * Tags are kept exactly as given (IOB1 or IOB2); the metrics decide how to read them.
 *
 * @module
 */
import { type BadRowOptions, DataReader, type RowResult } from "./reader.ts";
import { DataError, readLines, type Source, sourceName } from "./source.ts";

/** One sentence: its words and one tag per word (empty when the file has no tags and none are required). */
export interface TokenExample {
  words: string[];
  labels: string[];
}

/** Options of {@link readConll}. */
export interface ConllOptions extends BadRowOptions {
  /** Column of the token; negative counts from the end. Default 0. */
  tokenColumn?: number;
  /** Column of the tag; negative counts from the end. Default -1 (last; CoNLL-2003: token POS chunk NER). */
  tagColumn?: number;
  /** Whether every token must have a tag (default true; false for prediction input with one column). */
  requireLabel?: boolean;
  /** A fixed tag set: any other tag is a bad row. */
  labelSet?: readonly string[];
}

/**
 * Reads CoNLL sentences. A bad token line makes its whole sentence bad: it throws a {@link DataError} naming
 * the line, or with `skipBadRows` the sentence is dropped and counted in `skipped`.
 *
 * @example
 * ```ts
 * import { readConll } from "./conll.ts";
 * const text = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n";
 * const source = { name: "x.conll", readable: ReadableStream.from([new TextEncoder().encode(text)]) };
 * console.log(await readConll(source).readAll()); // [{ words: ["EU", "rejects"], labels: ["B-ORG", "O"] }]
 * ```
 */
export function readConll(source: Source, options: ConllOptions = {}): DataReader<TokenExample> {
  return new DataReader(sourceName(source), () => conllRows(source, options), options);
}

async function* conllRows(source: Source, options: ConllOptions): AsyncGenerator<RowResult<TokenExample>> {
  const file = sourceName(source);
  const tokenColumn = options.tokenColumn ?? 0;
  const tagColumn = options.tagColumn ?? -1;
  const requireLabel = options.requireLabel ?? true;
  const labelSet = options.labelSet ? new Set(options.labelSet) : undefined;
  let words: string[] = [];
  let labels: string[] = [];
  let error: DataError | null = null;
  let untagged = 0;
  const finish = (): RowResult<TokenExample> | null => {
    const result = error ??
      (words.length === 0 ? null : { ok: { words, labels: untagged > 0 ? [] : labels } });
    words = [];
    labels = [];
    error = null;
    untagged = 0;
    return result;
  };
  for await (const { text, line } of readLines(source)) {
    const fields = text.trim().split(/\s+/);
    if (fields[0] === "") {
      const sentence = finish();
      if (sentence) yield sentence;
      continue;
    }
    if (fields[0] === "-DOCSTART-") continue;
    if (error) continue;
    const at = (c: number) => fields[c < 0 ? fields.length + c : c];
    const word = at(tokenColumn);
    if (word === undefined) {
      error = new DataError(file, line, `missing token column ${tokenColumn} in '${text}'`);
      continue;
    }
    const tokenIndex = tokenColumn < 0 ? fields.length + tokenColumn : tokenColumn;
    const tagIndex = tagColumn < 0 ? fields.length + tagColumn : tagColumn;
    const tag = tagIndex === tokenIndex ? undefined : at(tagColumn);
    if (tag === undefined) {
      if (requireLabel) error = new DataError(file, line, `missing tag column ${tagColumn} in '${text}'`);
      untagged++;
    } else if (labelSet && !labelSet.has(tag)) {
      error = new DataError(file, line, `unknown tag '${tag}' (expected one of ${[...labelSet].join(", ")})`);
    } else labels.push(tag);
    if (untagged > 0 && labels.length > 0 && !error) {
      error = new DataError(file, line, "sentence mixes tagged and untagged tokens");
    }
    words.push(word);
  }
  const last = finish();
  if (last) yield last;
}
