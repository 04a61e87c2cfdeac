/**
 * Where data rows come from: a file path (streamed, never read whole) or any byte stream with a name, split into
 * numbered lines (JSONL, CoNLL) or delimited records (CSV/TSV through csv-parse's web-stream parser). Every row
 * carries its 1-based line number so that errors can name it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { parse } from "npm:csv-parse@7.0.3/stream";

/** A data file: a path, or a named byte stream (tests, stdin, network bodies). */
export type Source = string | { name: string; readable: ReadableStream<Uint8Array> };

/** File formats of the example readers. */
export type Format = "jsonl" | "csv" | "tsv";

/** Raised for a bad row or a bad file: the message names the file and the 1-based line number (0: none). */
export class DataError extends Error {
  override name = "DataError";
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

/** The display name of a source (its path or given name). */
export function sourceName(source: Source): string {
  return typeof source === "string" ? source : source.name;
}

/** Opens the source as a byte stream; a path is opened lazily and closed when the stream ends or is cancelled. */
export async function openSource(source: Source): Promise<ReadableStream<Uint8Array>> {
  if (typeof source !== "string") return source.readable;
  const file = await Deno.open(source, { read: true });
  return file.readable;
}

/** The format of a path by its extension (`.jsonl`/`.ndjson`/`.json`, `.csv`, `.tsv`), or an explicit one. */
export function detectFormat(source: Source, format?: Format): Format {
  if (format) return format;
  const name = sourceName(source).toLowerCase();
  if (/\.(jsonl|ndjson|json)$/.test(name)) return "jsonl";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".tsv")) return "tsv";
  throw new DataError(
    sourceName(source),
    0,
    "unknown file format: expected a .jsonl, .ndjson, .json, .csv or .tsv extension or an explicit format",
  );
}

/** One line of text (without its line break) and its 1-based number. */
export interface Line {
  text: string;
  line: number;
}

/** Yields the lines of a source one by one (`\n` or `\r\n`), dropping a leading byte-order mark. */
export async function* readLines(source: Source): AsyncGenerator<Line> {
  const stream = (await openSource(source)).pipeThrough(new TextDecoderStream());
  let rest = "";
  let line = 0;
  // for-await cancels the stream (and closes the file) when the consumer stops early.
  for await (const chunk of stream) {
    rest += chunk;
    let start = 0;
    for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n", start)) {
      yield { text: clean(rest.slice(start, nl), ++line), line };
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  if (rest.length > 0) yield { text: clean(rest, ++line), line };
}

function clean(text: string, line: number): string {
  if (text.endsWith("\r")) text = text.slice(0, -1);
  if (line === 1 && text.startsWith("\ufeff")) text = text.slice(1);
  return text;
}

/** Options of {@link readRecords}. */
export interface RecordOptions {
  /** Field delimiter: `,` for CSV, `\t` for TSV. */
  delimiter: string;
  /** Whether `"` quotes fields (CSV) or is an ordinary character (TSV, GLUE: Python's QUOTE_NONE). */
  quote: boolean;
}

/** One delimited record: its fields and the 1-based line it starts on. */
export interface DelimitedRecord {
  fields: string[];
  line: number;
}

/**
 * Yields the records of a CSV/TSV source through csv-parse's web-stream parser; empty lines are skipped.
 * The parser is fed one chunk at a time, each write awaited: `pipeThrough` would queue up to 1024 source
 * chunks (64 MiB of a file) ahead of the consumer, so a 10,000-row file would be read whole before its first
 * record is used.
 */
export async function* readRecords(source: Source, options: RecordOptions): AsyncGenerator<DelimitedRecord> {
  const parser = parse({
    delimiter: options.delimiter,
    quote: options.quote ? '"' : false,
    relax_column_count: true,
    // Like Python's csv module: a quote inside an unquoted field is an ordinary character.
    relax_quotes: true,
    skip_empty_lines: true,
    bom: true,
    info: true,
  });
  const bytes = await openSource(source);
  const writer = parser.writable.getWriter();
  const pump = (async () => {
    try {
      for await (const chunk of bytes) {
        await writer.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
      await writer.close();
    } catch (e) {
      // The consumer stopped (the parser was cancelled) or the source failed: stop the other side too.
      await writer.abort(e).catch(() => {});
    }
  })();
  const name = sourceName(source);
  try {
    for await (
      const item of parser.readable as ReadableStream<{ record: string[]; info: { lines: number } }>
    ) {
      // info.lines is the line the record ends on; quoted fields may span lines.
      const breaks = item.record.reduce((n, f) => n + (f.match(/\n/g)?.length ?? 0), 0);
      yield { fields: item.record, line: item.info.lines - breaks };
    }
  } catch (e) {
    const err = e as { message?: string; lines?: number };
    const kind = options.delimiter === "\t" ? "TSV" : "CSV";
    throw new DataError(name, err.lines ?? 0, `malformed ${kind}: ${err.message}`);
  } finally {
    await pump;
  }
}
