/**
 * Sequence-classification and regression examples from JSONL, CSV and TSV files, streamed row by row.
 *
 * @module
 */
import { type BadRowOptions, DataReader, type RowResult } from "./reader.ts";
import {
  DataError,
  detectFormat,
  type Format,
  readLines,
  readRecords,
  type Source,
  sourceName,
} from "./source.ts";

/** One example: a text (and optional second text) with a label (string class or number for regression). */
export interface Example<L extends string | number = string> {
  text: string;
  textPair?: string;
  /** Absent only when labels are not required (prediction input). */
  label?: L;
}

/** Options of {@link readExamples}. */
export interface ExampleOptions extends BadRowOptions {
  /** File format; by default from the extension (`.jsonl`/`.ndjson`/`.json`, `.csv`, `.tsv`). */
  format?: Format;
  /** Column (JSON key) of the text. Default `text`. */
  textColumn?: string;
  /** Column of the second text. Default `text_pair`, used when present; a column named here is required. */
  textPairColumn?: string;
  /** Column of the label. Default `label`. */
  labelColumn?: string;
  /** `string` class labels (default) or `number` regression targets. */
  labelType?: "string" | "number";
  /** Whether every row must have a label (default true; false for prediction input). */
  requireLabel?: boolean;
  /** A fixed label set: any other label is a bad row. */
  labelSet?: readonly string[];
  /** Whether `"` quotes CSV/TSV fields. Default true for CSV, false for TSV (GLUE style, no quoting). */
  quote?: boolean;
}

/** A column by header name (or JSON key), or by 0-based index for files without a header. */
export type Column = string | number;

/** How a row becomes an example (shared with the GLUE reader). */
export interface RowSpec {
  text: Column;
  textPair?: Column;
  /** Whether a missing `textPair` column is a bad row (else the example has no pair). */
  pairRequired: boolean;
  /** Label column; undefined when the file has no labels. */
  label?: Column;
  requireLabel: boolean;
  labelType: "string" | "number";
  labelSet?: ReadonlySet<string>;
  /** Header names of the columns after {@link resolveHeader} turned them into indices (for messages). */
  names?: { text?: string; textPair?: string; label?: string };
}

function describe(spec: RowSpec, field: "text" | "textPair" | "label"): string {
  const name = spec.names?.[field];
  const c = spec[field];
  return name !== undefined ? `'${name}'` : typeof c === "number" ? `${c} (0-based)` : `'${c ?? "label"}'`;
}

/**
 * Reads text-classification (or regression) examples; a path is streamed, never loaded whole.
 *
 * @example
 * ```ts
 * import { readExamples } from "./examples.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, 'sentence,label\n"Fine, thanks",pos\n');
 * for await (const ex of readExamples(path, { textColumn: "sentence" })) console.log(ex);
 * // { text: "Fine, thanks", label: "pos" }
 * ```
 */
export function readExamples(
  source: Source,
  options: ExampleOptions & { labelType: "number" },
): DataReader<Example<number>>;
export function readExamples(source: Source, options?: ExampleOptions): DataReader<Example<string>>;
export function readExamples(
  source: Source,
  options: ExampleOptions = {},
): DataReader<Example<string | number>> {
  const format = detectFormat(source, options.format);
  const spec: RowSpec = {
    text: options.textColumn ?? "text",
    textPair: options.textPairColumn ?? "text_pair",
    pairRequired: options.textPairColumn !== undefined,
    label: options.labelColumn ?? "label",
    requireLabel: options.requireLabel ?? true,
    labelType: options.labelType ?? "string",
    labelSet: options.labelSet ? new Set(options.labelSet) : undefined,
  };
  const rows = format === "jsonl" ? () => jsonlRows(source, spec) : () =>
    delimitedRows(source, spec, {
      delimiter: format === "csv" ? "," : "\t",
      quote: options.quote ?? format === "csv",
    });
  return new DataReader(sourceName(source), rows, options);
}

async function* jsonlRows(
  source: Source,
  spec: RowSpec,
): AsyncGenerator<RowResult<Example<string | number>>> {
  const file = sourceName(source);
  for await (const { text, line } of readLines(source)) {
    if (text.trim() === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (e) {
      const hint = line === 1 && text.trimStart().startsWith("[")
        ? " (expected JSON Lines: one object per line)"
        : "";
      yield new DataError(file, line, `invalid JSON${hint}: ${(e as Error).message}`);
      continue;
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      const got = JSON.stringify(row).slice(0, 40);
      yield new DataError(file, line, `expected a JSON object${jsonlHint(text, line)}, got ${got}`);
      continue;
    }
    const record = row as Record<string, unknown>;
    yield exampleFromRow((c) => record[c], spec, file, line);
  }
}

/** A JSON array on line 1 means a JSON file where JSON Lines were expected. */
function jsonlHint(text: string, line: number): string {
  return line === 1 && text.trimStart().startsWith("[") ? " (expected JSON Lines: one object per line)" : "";
}

/** Reads a delimited file with a header row; columns are looked up by header name. */
export async function* delimitedRows(
  source: Source,
  spec: RowSpec,
  format: { delimiter: string; quote: boolean },
): AsyncGenerator<RowResult<Example<string | number>>> {
  const file = sourceName(source);
  let index: Map<string, number> | null = null;
  let rowSpec = spec;
  for await (const { fields, line } of readRecords(source, format)) {
    if (index === null) {
      index = new Map(fields.map((name, i) => [name.trim(), i]));
      rowSpec = resolveHeader(spec, index, file, line);
      continue;
    }
    yield exampleFromRow((c) => fields[c as number], rowSpec, file, line);
  }
}

/** Turns named columns into indices of the header; throws (not skippable) when a needed column is absent. */
export function resolveHeader(
  spec: RowSpec,
  header: Map<string, number>,
  file: string,
  line: number,
): RowSpec {
  const find = (c: Column | undefined, required: boolean, what: string): number | undefined => {
    if (c === undefined || typeof c === "number") return c;
    const i = header.get(c);
    if (i === undefined && required) {
      throw new DataError(
        file,
        line,
        `${what} column '${c}' not in the header [${[...header.keys()].join(", ")}]`,
      );
    }
    return i;
  };
  return {
    ...spec,
    text: find(spec.text, true, "text")!,
    textPair: find(spec.textPair, spec.pairRequired, "text pair"),
    label: find(spec.label, spec.requireLabel, "label"),
    names: {
      text: typeof spec.text === "string" ? spec.text : undefined,
      textPair: typeof spec.textPair === "string" ? spec.textPair : undefined,
      label: typeof spec.label === "string" ? spec.label : undefined,
    },
  };
}

/** Builds one example from a row's fields, or the DataError of a bad row. */
export function exampleFromRow(
  get: (c: Column) => unknown,
  spec: RowSpec,
  file: string,
  line: number,
): RowResult<Example<string | number>> {
  const bad = (reason: string) => new DataError(file, line, reason);
  const text = get(spec.text);
  if (text === undefined || text === null) return bad(`missing text column ${describe(spec, "text")}`);
  if (typeof text !== "string") {
    return bad(`text column ${describe(spec, "text")} is not a string: ${JSON.stringify(text)}`);
  }
  if (text.trim() === "") return bad(`empty text in column ${describe(spec, "text")}`);
  const example: Example<string | number> = { text };
  if (spec.textPair !== undefined) {
    const pair = get(spec.textPair);
    if (pair === undefined || pair === null) {
      if (spec.pairRequired) return bad(`missing text pair column ${describe(spec, "textPair")}`);
    } else if (typeof pair !== "string") {
      return bad(`text pair column ${describe(spec, "textPair")} is not a string: ${JSON.stringify(pair)}`);
    } else if (pair.trim() === "") {
      return bad(`empty text pair in column ${describe(spec, "textPair")}`);
    } else example.textPair = pair;
  }
  const raw = spec.label === undefined ? undefined : get(spec.label);
  const missing = raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "");
  if (missing) {
    return spec.requireLabel ? bad(`missing label column ${describe(spec, "label")}`) : { ok: example };
  }
  if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
    return bad(`label is not a string or number: ${JSON.stringify(raw)}`);
  }
  if (spec.labelType === "number") {
    const value = typeof raw === "number" ? raw : Number(String(raw).trim());
    if (typeof raw === "boolean" || !Number.isFinite(value)) {
      return bad(`label '${raw}' is not a finite number`);
    }
    example.label = value;
    return { ok: example };
  }
  const label = String(raw).trim();
  if (spec.labelSet && !spec.labelSet.has(label)) {
    return bad(`unknown label '${label}' (expected one of ${[...spec.labelSet].join(", ")})`);
  }
  example.label = label;
  return { ok: example };
}
