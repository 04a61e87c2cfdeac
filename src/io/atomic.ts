/**
 * Atomic file writes: a temporary file beside the target, then a rename, so a crash never leaves a half
 * written checkpoint or result.
 *
 * @module
 */

/** Writes text or bytes to `path` through `path.<random>.tmp` and a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
