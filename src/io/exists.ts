/**
 * Whether a path exists.
 *
 * @module
 */

/** True when `path` can be stat'ed (a file, folder or link target); false on any error. */
export async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
