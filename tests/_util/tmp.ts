/**
 * Temporary files and folders of the tests, all under one scratch folder per test process that is removed when
 * the process ends (the `unload` event), so a test run leaves nothing behind in the system's temp folder.
 *
 * @module
 */

let root: string | null = null;

async function scratch(): Promise<string> {
  if (root === null) {
    root = await Deno.makeTempDir({ prefix: "addrop_test_" });
    const dir = root;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    });
  }
  return root;
}

/** A new empty folder under the scratch folder. */
export async function tempDir(prefix = ""): Promise<string> {
  return await Deno.makeTempDir({ dir: await scratch(), prefix });
}

/** A new empty file under the scratch folder, named `<random><suffix>`. */
export async function tempFile(suffix = ""): Promise<string> {
  return await Deno.makeTempFile({ dir: await scratch(), suffix });
}
