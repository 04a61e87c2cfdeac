/**
 * Helpers of the data tests: fixture files in a fresh temporary folder, and a check that a call rejects with a
 * DataError naming a given file and line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataError } from "../../src/data/source.ts";
import { tempDir } from "../_util/tmp.ts";

/** Writes `text` to `<new temp dir>/<name>` and returns the path. */
export async function fixture(name: string, text: string): Promise<string> {
  const dir = await tempDir("data_");
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, text);
  return path;
}

/** Asserts that `fn` rejects with a DataError for `file:line` whose reason matches `reason`. */
export async function assertDataError(
  fn: () => Promise<unknown>,
  file: string,
  line: number,
  reason: RegExp,
): Promise<DataError> {
  let caught: unknown = null;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${caught}`);
  assert.deepEqual([caught.file, caught.line], [file, line], caught.message);
  assert.ok(caught.message.startsWith(`${file}:${line}: `), caught.message);
  assert.match(caught.reason, reason);
  return caught;
}
