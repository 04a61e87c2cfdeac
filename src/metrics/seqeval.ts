/**
 * Entity-level precision, recall and F1 for NER, ports of seqeval: the default mode is conlleval-compatible
 * (IOB1, IOB2 and IOBES all accepted; an I- after O or after another type starts an entity), `strict` mode
 * follows the IOB2 scheme exactly (an entity starts only at B-; a lone I- is no entity). Scores are
 * micro-averaged over entities (sets of sentence, start, end, type), with per-type scores beside them.
 *
 * @module
 */
import { assertSameLength } from "./classification.ts";

/** One entity: sentence index, first and last token (inclusive), and its type. */
export interface Entity {
  sentence: number;
  start: number;
  end: number;
  type: string;
}

/** Precision, recall, F1 and the number of reference entities. */
export interface Score {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Micro-averaged scores and the scores of every entity type. */
export interface SeqevalResult extends Score {
  perType: Record<string, Score>;
}

/** `default` (conlleval) or `strict` (IOB2). */
export type SeqevalMode = "default" | "strict";

function split(tag: string): [prefix: string, type: string] {
  // seqeval: tag = chunk[0]; type = chunk[1:].split("-", 1)[-1] or "_".
  const prefix = tag[0] ?? "O";
  const rest = tag.slice(1);
  const dash = rest.indexOf("-");
  return [prefix, (dash < 0 ? rest : rest.slice(dash + 1)) || "_"];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === "E" || prevTag === "S") return true;
  if ((prevTag === "B" || prevTag === "I") && (tag === "B" || tag === "S" || tag === "O")) return true;
  return prevTag !== "O" && prevTag !== "." && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === "B" || tag === "S") return true;
  if ((prevTag === "E" || prevTag === "S" || prevTag === "O") && (tag === "E" || tag === "I")) return true;
  return tag !== "O" && tag !== "." && prevType !== type;
}

/** Entities of one sentence the conlleval way (seqeval's `get_entities`). */
export function entitiesDefault(tags: readonly string[], sentence = 0): Entity[] {
  const out: Entity[] = [];
  let prevTag = "O";
  let prevType = "";
  let begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const [tag, type] = split(i < tags.length ? tags[i] : "O");
    if (endOfChunk(prevTag, tag, prevType, type)) {
      out.push({ sentence, start: begin, end: i - 1, type: prevType });
    }
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return out;
}

/** Entities of one sentence under strict IOB2: B-X followed by I-X*; throws on a prefix other than B, I, O. */
export function entitiesStrict(tags: readonly string[], sentence = 0): Entity[] {
  const parsed = tags.map((t) => {
    const [prefix, type] = t === "O" ? ["O", ""] : split(t);
    if (t !== "O" && (t[1] !== "-" || (prefix !== "B" && prefix !== "I"))) {
      throw new RangeError(`strict IOB2: tag '${t}' in sentence ${sentence} is not O, B-<type> or I-<type>`);
    }
    return { prefix, type };
  });
  const out: Entity[] = [];
  for (let i = 0; i < parsed.length;) {
    if (parsed[i].prefix !== "B") {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < parsed.length && parsed[end].prefix === "I" && parsed[end].type === parsed[i].type) end++;
    out.push({ sentence, start: i, end: end - 1, type: parsed[i].type });
    i = end;
  }
  return out;
}

function scoreOf(tp: number, nPred: number, nTrue: number): Score {
  const precision = nPred === 0 ? 0 : tp / nPred;
  const recall = nTrue === 0 ? 0 : tp / nTrue;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, support: nTrue };
}

/**
 * Entity-level scores of predicted against reference tag sequences (one array per sentence).
 *
 * @example
 * ```ts
 * import { seqeval } from "./seqeval.ts";
 * const r = seqeval([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "B-LOC"]]);
 * console.log(r.precision, r.recall); // 1 0.5
 * ```
 */
export function seqeval(
  preds: readonly (readonly string[])[],
  refs: readonly (readonly string[])[],
  { mode = "default" }: { mode?: SeqevalMode } = {},
): SeqevalResult {
  assertSameLength("seqeval sentences", preds, refs);
  const extract = mode === "strict" ? entitiesStrict : entitiesDefault;
  const key = (e: Entity) => `${e.sentence}:${e.start}:${e.end}:${e.type}`;
  const predSet = new Map<string, Entity>();
  const trueSet = new Map<string, Entity>();
  for (let s = 0; s < preds.length; s++) {
    assertSameLength(`seqeval sentence ${s} tags`, preds[s], refs[s]);
    for (const e of extract(preds[s], s)) predSet.set(key(e), e);
    for (const e of extract(refs[s], s)) trueSet.set(key(e), e);
  }
  const types = new Set([...predSet.values(), ...trueSet.values()].map((e) => e.type));
  const perType: Record<string, Score> = {};
  let tpAll = 0;
  for (const type of [...types].sort()) {
    let tp = 0;
    let nPred = 0;
    let nTrue = 0;
    for (const [k, e] of predSet) {
      if (e.type !== type) continue;
      nPred++;
      if (trueSet.has(k)) tp++;
    }
    for (const e of trueSet.values()) if (e.type === type) nTrue++;
    perType[type] = scoreOf(tp, nPred, nTrue);
    tpAll += tp;
  }
  return { ...scoreOf(tpAll, predSet.size, trueSet.size), perType };
}

/** Token-level accuracy over all sentences (HF run_ner's `overall_accuracy`). */
export function tokenAccuracy(
  preds: readonly (readonly string[])[],
  refs: readonly (readonly string[])[],
): number {
  assertSameLength("tokenAccuracy sentences", preds, refs);
  let correct = 0;
  let total = 0;
  for (let s = 0; s < preds.length; s++) {
    assertSameLength(`tokenAccuracy sentence ${s} tags`, preds[s], refs[s]);
    for (let i = 0; i < preds[s].length; i++) if (preds[s][i] === refs[s][i]) correct++;
    total += preds[s].length;
  }
  return correct / total;
}
