/**
 * The error for a problem with what the user gave (a file, a checkpoint directory, an option) that is not a
 * data row ({@link DataError}), a config field ({@link ConfigError}) or a weight tensor ({@link WeightError}):
 * its message names the file or option and what is wrong, and the command line prints it without a stack.
 *
 * @module
 */

/** A problem with the user's input; the message names where and what. */
export class InputError extends Error {
  override name = "InputError";
}
