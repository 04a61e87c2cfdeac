/**
 * The top level of every `deno task` entry: known errors print one clear message and exit non-zero, anything
 * else prints its stack.
 *
 * @module
 */
import { ConfigError } from "../model/config.ts";
import { GpuError } from "../gpu/errors.ts";
import { OptionsError } from "./train_options.ts";

/** The integer value of a flag, at least `min`; a RangeError naming the flag otherwise. */
export function intFlag(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`${flag} must be an integer >= ${min}, got '${value}'`);
  }
  return n;
}

/**
 * Errors about the user's input, by name: their message says it all (Deno's file-system errors name the path),
 * so no stack is printed.
 */
const KNOWN = new Set([
  "DataError",
  "LabelError",
  "SafetensorsError",
  "WeightError",
  "ShapeError",
  "RangeError",
  "InputError",
  "NotFound",
  "PermissionDenied",
  "IsADirectory",
  "NotADirectory",
]);

/** Runs `main`; on error prints `addrop: <message>` and exits with status 1 (2 for bad options). */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    const err = e as Error;
    const known = err instanceof OptionsError || err instanceof ConfigError || err instanceof GpuError ||
      KNOWN.has(err.name);
    console.error(`addrop: ${known ? err.message : err.stack ?? err.message}`);
    Deno.exit(err instanceof OptionsError ? 2 : 1);
  }
}
