/**
 * The async-iterable reader every data reader returns: rows stream through one at a time, a bad row either
 * throws its {@link DataError} or, with `skipBadRows`, is counted and dropped.
 *
 * @module
 */
import { DataError } from "./source.ts";

/** How bad rows are handled. */
export interface BadRowOptions {
  /** Drop bad rows (counted in `skipped`) instead of throwing a {@link DataError}. Default false. */
  skipBadRows?: boolean;
}

/** What a row parser yields: an example, or the error of a bad row. */
export type RowResult<T> = { ok: T } | DataError;

/** How many skipped-row errors a reader keeps for its report. */
const KEPT_ERRORS = 20;

/**
 * A stream of examples read from one file. Iterate it with `for await`, or collect with `readAll()`.
 * Each iteration re-reads the file from the start.
 *
 * @example
 * ```ts
 * import { readExamples } from "./examples.ts";
 * const bytes = new TextEncoder().encode('{"text":"good","label":"1"}\n{"text":"","label":"0"}\n');
 * const reader = readExamples({ name: "x.jsonl", readable: ReadableStream.from([bytes]) }, { skipBadRows: true });
 * console.log(await reader.readAll(), reader.skipped); // [{ text: "good", label: "1" }] 1
 * ```
 */
export class DataReader<T> implements AsyncIterable<T> {
  /** Bad rows dropped so far (only with `skipBadRows`). */
  skipped = 0;
  /** The first skipped rows' errors, for a report. */
  readonly skippedErrors: DataError[] = [];

  constructor(
    /** The file's path or name. */
    readonly file: string,
    private readonly rows: () => AsyncGenerator<RowResult<T>>,
    private readonly options: BadRowOptions = {},
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const row of this.rows()) {
      if (!(row instanceof DataError)) {
        yield row.ok;
        continue;
      }
      if (!this.options.skipBadRows) throw row;
      this.skipped++;
      if (this.skippedErrors.length < KEPT_ERRORS) this.skippedErrors.push(row);
    }
  }

  /** Reads every example into an array (for training sets; stream prediction inputs instead). */
  readAll(): Promise<T[]> {
    return readAll(this);
  }
}

/** Collects an async iterable into an array. */
export async function readAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
