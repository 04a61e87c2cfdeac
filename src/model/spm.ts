/**
 * A minimal reader of SentencePiece model files (`*.model`, OPUS-MT's `source.spm` / `target.spm`): the
 * `ModelProto` protobuf of sentencepiece's `src/sentencepiece_model.proto`, reduced to what a tokenizer.json
 * conversion needs: the pieces with their scores and types, the model type and the normalizer settings.
 *
 * Wire format: every field is a varint key `(number << 3) | wire type`; wire type 0 is a varint, 1 eight bytes,
 * 2 a varint length and that many bytes (strings, bytes, sub-messages), 5 four bytes (float). Fields not read
 * here are skipped by their wire type; absent fields take the proto2 defaults of the .proto file.
 *
 * @module
 */

import { InputError } from "../io/input_error.ts";

/** `ModelProto.SentencePiece.Type`. */
export type SpmPieceType = "normal" | "unknown" | "control" | "user_defined" | "unused" | "byte";

/** One entry of `ModelProto.pieces`; its index in the list is the piece's SentencePiece id. */
export interface SpmPiece {
  piece: string;
  /** Log probability for Unigram models (a float32 value). */
  score: number;
  type: SpmPieceType;
}

/** `TrainerSpec.ModelType`. */
export type SpmModelType = "unigram" | "bpe" | "word" | "char";

/** `NormalizerSpec`: how text is normalized before it is segmented. */
export interface SpmNormalizerSpec {
  /** Rule name: `nmt_nfkc` (the default), `nfkc`, `nmt_nfkc_cf`, `nfkc_cf`, `identity` or `user_defined`. */
  name: string;
  /** The compiled character map (empty for `identity`). */
  precompiledCharsmap: Uint8Array;
  /** Prepends a space (`▁`) to the text (default true). */
  addDummyPrefix: boolean;
  /** Removes leading and trailing spaces and collapses runs of spaces (default true). */
  removeExtraWhitespaces: boolean;
  /** Writes spaces as `▁` (default true). */
  escapeWhitespaces: boolean;
}

/** What {@link readSpmModel} reads of a `ModelProto`. */
export interface SpmModel {
  pieces: SpmPiece[];
  modelType: SpmModelType;
  /** Pieces never span a space (`▁` only at the start of a piece; default true). */
  splitByWhitespace: boolean;
  /** `▁` ends pieces instead of starting them (default false). */
  treatWhitespaceAsSuffix: boolean;
  /** Unknown characters become byte pieces `<0xNN>` instead of `<unk>` (default false). */
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  normalizer: SpmNormalizerSpec;
}

const PIECE_TYPES: Record<number, SpmPieceType> = {
  1: "normal",
  2: "unknown",
  3: "control",
  4: "user_defined",
  5: "unused",
  6: "byte",
};
const MODEL_TYPES: Record<number, SpmModelType> = { 1: "unigram", 2: "bpe", 3: "word", 4: "char" };
const WIRE_NAMES = ["varint", "64-bit", "length-delimited", "group start", "group end", "32-bit"];

/** A cursor over one message's bytes; errors name the file and the byte offset in it. */
class Reader {
  pos: number;
  readonly #view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly file: string,
  ) {
    this.pos = start;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string): never {
    throw new InputError(`${this.file}: not a SentencePiece model (${what} at byte ${this.pos})`);
  }

  /** A varint's low 32 bits, unsigned; `wide` is set when higher bits are set (a negative int32 has them). */
  varint(): { lo: number; wide: boolean } {
    let lo = 0;
    let wide = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.bytes[this.pos++];
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        if (bits >> 4) wide = true;
      } else if (bits) wide = true;
      if (!(b & 0x80)) return { lo: lo >>> 0, wide };
    }
    this.fail("varint longer than 10 bytes");
  }

  /** A length-delimited field's extent. */
  span(): [number, number] {
    const { lo, wide } = this.varint();
    if (wide || lo > this.end - this.pos) this.fail(`field length ${lo} past the end of its message`);
    const s = this.pos;
    this.pos += lo;
    return [s, this.pos];
  }

  float32(): number {
    if (this.end - this.pos < 4) this.fail("truncated 32-bit field");
    const v = this.#view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  string(): string {
    const [s, e] = this.span();
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(s, e));
    } catch {
      this.fail("a string that is not UTF-8");
    }
  }

  sub(): Reader {
    const [s, e] = this.span();
    return new Reader(this.bytes, s, e, this.file);
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.span();
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (this.end - this.pos < n) this.fail(`truncated ${WIRE_NAMES[wire]} field`);
      this.pos += n;
    } else this.fail(`unsupported wire type ${wire}${WIRE_NAMES[wire] ? ` (${WIRE_NAMES[wire]})` : ""}`);
  }

  /** Calls `field(number, wire)` for each field; `field` reads the value or returns false to skip it. */
  fields(field: (num: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const { lo: key, wide } = this.varint();
      const num = key >>> 3;
      const wire = key & 7;
      if (wide || num === 0) this.fail(`invalid field key ${key}`);
      if (!field(num, wire)) this.skip(wire);
    }
  }

  expect(wire: number, wanted: number, name: string): void {
    if (wire !== wanted) this.fail(`field ${name} has wire type ${wire}, expected ${wanted}`);
  }
}

function readPiece(r: Reader, index: number): SpmPiece {
  const p: SpmPiece = { piece: "", score: 0, type: "normal" };
  let hasPiece = false;
  r.fields((num, wire) => {
    if (num === 1) {
      r.expect(wire, 2, "piece");
      p.piece = r.string();
      hasPiece = true;
    } else if (num === 2) {
      r.expect(wire, 5, "score");
      p.score = r.float32();
    } else if (num === 3) {
      r.expect(wire, 0, "type");
      const t = r.varint().lo;
      if (!PIECE_TYPES[t]) r.fail(`piece ${index} has unknown type ${t}`);
      p.type = PIECE_TYPES[t];
    } else return false;
    return true;
  });
  if (!hasPiece || p.piece === "") r.fail(`piece ${index} has no text`);
  return p;
}

/**
 * Reads a SentencePiece `ModelProto` (the bytes of a `.model` / `.spm` file); `o.file` names it in errors. Throws
 * an {@link InputError} for truncated or malformed protobuf and for a model without pieces.
 *
 * @example
 * ```ts
 * import { readSpmModel } from "./src/model/spm.ts";
 * const file = "tests/fixtures/marian_spm/source.spm";
 * const spm = readSpmModel(await Deno.readFile(file), { file });
 * console.log(spm.modelType, spm.pieces[0]); // unigram { piece: "<unk>", score: 0, type: "unknown" }
 * ```
 */
export function readSpmModel(bytes: Uint8Array, o: { file?: string } = {}): SpmModel {
  const file = o.file ?? "SentencePiece model";
  const model: SpmModel = {
    pieces: [],
    modelType: "unigram",
    splitByWhitespace: true,
    treatWhitespaceAsSuffix: false,
    byteFallback: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    normalizer: {
      name: "",
      precompiledCharsmap: new Uint8Array(0),
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    },
  };
  const top = new Reader(bytes, 0, bytes.length, file);
  top.fields((num, wire) => {
    if (num === 1) {
      top.expect(wire, 2, "pieces");
      model.pieces.push(readPiece(top.sub(), model.pieces.length));
    } else if (num === 2) {
      top.expect(wire, 2, "trainer_spec");
      readTrainerSpec(top.sub(), model);
    } else if (num === 3) {
      top.expect(wire, 2, "normalizer_spec");
      readNormalizerSpec(top.sub(), model.normalizer);
    } else return false;
    return true;
  });
  if (model.pieces.length === 0) top.fail("no pieces");
  return model;
}

function readTrainerSpec(r: Reader, model: SpmModel): void {
  const bool = (name: string, wire: number) => (r.expect(wire, 0, name), r.varint().lo !== 0);
  const int32 = (name: string, wire: number) => (r.expect(wire, 0, name), r.varint().lo | 0);
  r.fields((num, wire) => {
    if (num === 3) {
      const t = int32("model_type", wire);
      if (!MODEL_TYPES[t]) r.fail(`unknown model_type ${t}`);
      model.modelType = MODEL_TYPES[t];
    } else if (num === 22) model.splitByWhitespace = bool("split_by_whitespace", wire);
    else if (num === 24) model.treatWhitespaceAsSuffix = bool("treat_whitespace_as_suffix", wire);
    else if (num === 35) model.byteFallback = bool("byte_fallback", wire);
    else if (num === 40) model.unkId = int32("unk_id", wire);
    else if (num === 41) model.bosId = int32("bos_id", wire);
    else if (num === 42) model.eosId = int32("eos_id", wire);
    else if (num === 43) model.padId = int32("pad_id", wire);
    else return false;
    return true;
  });
}

function readNormalizerSpec(r: Reader, spec: SpmNormalizerSpec): void {
  const bool = (name: string, wire: number) => (r.expect(wire, 0, name), r.varint().lo !== 0);
  r.fields((num, wire) => {
    if (num === 1) {
      r.expect(wire, 2, "normalizer_spec.name");
      spec.name = r.string();
    } else if (num === 2) {
      r.expect(wire, 2, "precompiled_charsmap");
      const [s, e] = r.span();
      spec.precompiledCharsmap = r.bytes.slice(s, e);
    } else if (num === 3) spec.addDummyPrefix = bool("add_dummy_prefix", wire);
    else if (num === 4) spec.removeExtraWhitespaces = bool("remove_extra_whitespaces", wire);
    else if (num === 5) spec.escapeWhitespaces = bool("escape_whitespaces", wire);
    else return false;
    return true;
  });
}
