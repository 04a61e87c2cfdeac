/**
 * The pretraining stream: the corpus's non-empty lines in a seeded order per epoch, each tokenized (no special
 * tokens) and followed by [SEP], concatenated, and cut into full windows `[CLS] + (T - 2) tokens + [SEP]`
 * (RoBERTa's FULL-SENTENCES packing, with [SEP] marking line boundaries). Lines are tokenized as the stream
 * reaches them; the cursor (epoch, line, token offset) is all that a resumed run needs to continue exactly.
 *
 * @module
 */
import type { TextTokenizer } from "../model/tokenizer.ts";
import { epochOrder } from "./schedule.ts";
import { InputError } from "../io/input_error.ts";

/** Where the stream stands: the next token is token `offset` of line `order[epoch][line]`. */
export interface StreamCursor {
  epoch: number;
  line: number;
  offset: number;
}

/** Special ids of a BERT WordPiece vocabulary. */
export interface SpecialIds {
  pad: number;
  unk: number;
  cls: number;
  sep: number;
  mask: number;
}

/** The special ids of a tokenizer (errors name the token missing). */
export function specialIds(tok: TextTokenizer): SpecialIds {
  const id = (t: string) => {
    const v = tok.tokenizer.token_to_id(t);
    if (v === undefined) throw new InputError(`tokenizer: special token ${t} is not in the vocabulary`);
    return v;
  };
  return { pad: id("[PAD]"), unk: id("[UNK]"), cls: id("[CLS]"), sep: id("[SEP]"), mask: id("[MASK]") };
}

/** Packs the corpus into (B, T) batches of full windows; see the module doc. */
export class CorpusStream {
  readonly lines: string[];
  readonly ids: SpecialIds;
  #cursor: StreamCursor = { epoch: 0, line: 0, offset: 0 };
  #order: number[] = [];
  #orderEpoch = -1;
  #current: number[] | null = null;

  constructor(text: string, readonly tokenizer: TextTokenizer, readonly seed: number) {
    this.lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
    if (!this.lines.length) throw new InputError("pretraining corpus: no non-empty line");
    this.ids = specialIds(tokenizer);
  }

  /** A copy of the cursor (save it to resume). */
  get cursor(): StreamCursor {
    return { ...this.#cursor };
  }

  /** Moves to a saved cursor. */
  seek(c: StreamCursor): void {
    if (c.line >= this.lines.length) {
      throw new RangeError(`stream cursor line ${c.line} is past the corpus's ${this.lines.length} lines`);
    }
    this.#cursor = { ...c };
    this.#current = null;
  }

  /** Token ids of the line under the cursor, followed by [SEP]. */
  #line(): number[] {
    if (this.#current) return this.#current;
    if (this.#orderEpoch !== this.#cursor.epoch) {
      this.#order = epochOrder(this.lines.length, this.seed, this.#cursor.epoch, true);
      this.#orderEpoch = this.#cursor.epoch;
    }
    const text = this.lines[this.#order[this.#cursor.line]];
    const ids = this.tokenizer.tokenize(text).map((t) =>
      this.tokenizer.tokenizer.token_to_id(t) ?? this.ids.unk
    );
    this.#current = [...ids, this.ids.sep];
    return this.#current;
  }

  /** The next `n` tokens of the stream. */
  #take(n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      const line = this.#line();
      const c = this.#cursor;
      const got = line.slice(c.offset, c.offset + n - out.length);
      out.push(...got);
      c.offset += got.length;
      if (c.offset >= line.length) {
        this.#current = null;
        c.offset = 0;
        c.line++;
        if (c.line === this.lines.length) {
          c.line = 0;
          c.epoch++;
        }
      }
    }
    return out;
  }

  /** The next B windows of T tokens: ids (B, T) and an all-ones attention mask. */
  nextBatch(
    B: number,
    T: number,
  ): { inputIds: Int32Array; attentionMask: Int32Array; tokenTypeIds: Int32Array } {
    if (T < 3) throw new RangeError(`max length ${T}: a window needs at least 3 tokens`);
    const inputIds = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      inputIds[b * T] = this.ids.cls;
      inputIds.set(this.#take(T - 2), b * T + 1);
      inputIds[b * T + T - 1] = this.ids.sep;
    }
    return { inputIds, attentionMask: new Int32Array(B * T).fill(1), tokenTypeIds: new Int32Array(B * T) };
  }
}
