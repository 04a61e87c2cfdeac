/**
 * Builders of the bundled tasks and the pretraining text from already-read source files (no IO here, so the
 * rules are testable and the output is a pure function of the input): SpamAssassin ham/spam classification,
 * Brown genre classification of paragraphs and Brown part-of-speech tagging, split by source file.
 *
 * @module
 */

import { type BrownParagraph, detokenize, parseBrownFile, universalTag } from "./brown.ts";
import { collapseWhitespace, mailText } from "./mail.ts";
import { hashOrder, hashSplit, type Split, SPLITS, stratifiedSplit, takeByHash } from "./split.ts";

/** One labelled text (a line of a `.jsonl` task file). */
export interface LabelledText {
  /** The input text. */
  text: string;
  /** The class name. */
  label: string;
}

/** A task's three splits. */
export type Splits<T> = Record<Split, T[]>;

/** One raw SpamAssassin mail. */
export interface SpamSource {
  /** Unique id, e.g. `easy-ham-1/00001.7c53336b37003a9286aba55d2945844c`. */
  id: string;
  /** Which pool it comes from. */
  kind: "easy-ham" | "hard-ham" | "spam";
  /** The raw RFC 822 text. */
  raw: string;
}

/** The spam task: in-distribution splits, the out-of-distribution test and the train text for pretraining. */
export interface SpamTask {
  /** easy ham + spam, split by hash of id. */
  splits: Splits<LabelledText>;
  /** hard ham + as many held-out spam (never in `splits`). */
  hardHamTest: LabelledText[];
  /** Every text of the train split before `trainCap` (for the pretraining corpus). */
  pretrain: string[];
}

/** Options of `buildSpamTask`. */
export interface SpamOptions {
  /** Character cap of each text (default 2000). */
  maxChars?: number;
  /** Most train items kept in `splits.train` (default 1800; the first in hash order). */
  trainCap?: number;
}

function emptySplits<T>(): Splits<T> {
  return { train: [], validation: [], test: [] };
}

/**
 * Builds the spam task. Texts are extracted with `mailText` (subject + body, capped at `maxChars`), those
 * shorter than 16 characters dropped, exact duplicates removed (first by id wins, across all pools). Spam is
 * put in hash order of `"held-out:" + id` (a salt, so the choice is independent of `hashSplit`) and its first
 * `count(hard ham)` items are held out for `hardHamTest`; the remaining easy ham and spam are split 80/10/10 by
 * `hashSplit(id)`. Each split is in hash order of id; train is then cut to `trainCap`.
 */
export function buildSpamTask(sources: readonly SpamSource[], options: SpamOptions = {}): SpamTask {
  const seen = new Set<string>();
  const kept: (SpamSource & { text: string })[] = [];
  for (const s of [...sources].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const text = mailText(s.raw, { maxChars: options.maxChars ?? 2000 });
    if (text.length < 16 || seen.has(text)) continue;
    seen.add(text);
    kept.push({ ...s, text });
  }
  const byId = (x: { id: string }) => x.id;
  const hard = hashOrder(kept.filter((s) => s.kind === "hard-ham"), byId);
  const spam = hashOrder(kept.filter((s) => s.kind === "spam"), (s) => `held-out:${s.id}`);
  const heldOut = new Set(spam.slice(0, hard.length).map(byId));
  const hardHamTest = hashOrder([...hard, ...spam.slice(0, hard.length)], byId).map((s) => ({
    text: s.text,
    label: s.kind === "spam" ? "spam" : "ham",
  }));
  const splits = emptySplits<LabelledText>();
  const pool = kept.filter((s) => s.kind !== "hard-ham" && !heldOut.has(s.id));
  for (const s of hashOrder(pool, byId)) {
    splits[hashSplit(s.id)].push({ text: s.text, label: s.kind === "spam" ? "spam" : "ham" });
  }
  const pretrain = splits.train.map((r) => r.text);
  splits.train = splits.train.slice(0, options.trainCap ?? 1800);
  return { splits, hardHamTest, pretrain };
}

/** One Brown file with its genre. */
export interface BrownSource {
  /** File name, e.g. `ca01`. */
  file: string;
  /** Genre from cats.txt, e.g. `news`. */
  genre: string;
  /** Raw file text. */
  text: string;
}

/** A POS-tagged sentence: words and universal tags. */
export interface TaggedSentence {
  /** Words as in the corpus. */
  words: string[];
  /** Universal tags, one per word. */
  tags: string[];
}

/** Caps on the Brown task sizes (items kept by hash order; the rest dropped). */
export interface BrownCaps {
  /** Minimum words of a genre paragraph (default 10). */
  minParagraphWords?: number;
  /** Genre paragraphs per split (defaults train 4000, validation 700, test 700). */
  genre?: Partial<Record<Split, number>>;
  /** POS sentences per split (defaults train 6000, validation 1200, test 1200). */
  pos?: Partial<Record<Split, number>>;
}

/** The Brown tasks and the text of the train files for pretraining. */
export interface BrownTasks {
  /** Split of each file (stratified by genre). */
  fileSplit: Map<string, Split>;
  /** Genre classification of paragraphs. */
  genre: Splits<LabelledText>;
  /** POS tagging of sentences. */
  pos: Splits<TaggedSentence>;
  /** Every paragraph of the train files, detokenised, one per entry. */
  pretrain: string[];
}

function paragraphText(p: BrownParagraph): string {
  return p.map((s) => detokenize(s.map((t) => t.word))).join(" ");
}

/**
 * Builds the Brown tasks. Files are split 80/10/10 within each genre by `stratifiedSplit` (so no document
 * crosses splits and every genre is in every split); genre paragraphs (at least `minParagraphWords` words)
 * and POS sentences are then capped per split by hash order of `file:index`, keeping reading order.
 */
export function buildBrownTasks(sources: readonly BrownSource[], caps: BrownCaps = {}): BrownTasks {
  const genreOf = new Map(sources.map((s) => [s.file, s.genre]));
  const fileSplit = stratifiedSplit(sources.map((s) => s.file), (f) => genreOf.get(f)!);
  const genreAll = emptySplits<LabelledText & { key: string }>();
  const posAll = emptySplits<TaggedSentence & { key: string }>();
  const pretrain: string[] = [];
  const minWords = caps.minParagraphWords ?? 10;
  for (const s of [...sources].sort((a, b) => (a.file < b.file ? -1 : 1))) {
    const split = fileSplit.get(s.file)!;
    const paragraphs = parseBrownFile(s.text);
    paragraphs.forEach((p, i) => {
      const text = paragraphText(p);
      if (split === "train") pretrain.push(text);
      if (p.reduce((n, sent) => n + sent.length, 0) >= minWords) {
        genreAll[split].push({ text, label: s.genre, key: `${s.file}:${i}` });
      }
    });
    paragraphs.flat().forEach((sent, i) => {
      posAll[split].push({
        words: sent.map((t) => t.word),
        tags: sent.map((t) => universalTag(t.tag)),
        key: `${s.file}:${i}`,
      });
    });
  }
  const genreCap = { train: 4000, validation: 700, test: 700, ...caps.genre };
  const posCap = { train: 6000, validation: 1200, test: 1200, ...caps.pos };
  const genre = emptySplits<LabelledText>();
  const pos = emptySplits<TaggedSentence>();
  for (const split of SPLITS) {
    genre[split] = takeByHash(genreAll[split], (x) => x.key, genreCap[split]).map(({ text, label }) => ({
      text,
      label,
    }));
    pos[split] = takeByHash(posAll[split], (x) => x.key, posCap[split]).map(({ words, tags }) => ({
      words,
      tags,
    }));
  }
  return { fileSplit, genre, pos, pretrain };
}

/** Paragraphs of a plain-text book or speech: blank-line separated blocks, whitespace collapsed. */
export function plainParagraphs(text: string): string[] {
  return text.split(/\n[ \t]*\n/).map(collapseWhitespace).filter((p) => p.length > 0);
}

/** JSON Lines of labelled texts (`{"text":...,"label":...}` per line, trailing newline). */
export function toJsonl(records: readonly LabelledText[]): string {
  return records.map((r) => JSON.stringify({ text: r.text, label: r.label }) + "\n").join("");
}

/** CoNLL: `word TAB tag` per line, a blank line after each sentence. */
export function toConll(sentences: readonly TaggedSentence[]): string {
  return sentences.map((s) => s.words.map((w, i) => `${w}\t${s.tags[i]}\n`).join("") + "\n").join("");
}

/** Label -> count, sorted by label. */
export function labelCounts(records: readonly { label: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) counts[r.label] = (counts[r.label] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}
