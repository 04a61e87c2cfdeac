/**
 * Serves this repository over HTTP on 127.0.0.1 (an ephemeral port) and runs a separate `deno run` of a script
 * that imports `http://127.0.0.1:PORT/RUN/mod.ts` and runs a kernel through the public API, shaders included.
 * RUN is a fresh path per run: ephemeral ports repeat across runs, and Deno caches remote modules (and their
 * compiled code) by URL, so a module served at a URL an earlier run used could come from that run's copy.
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
// The subprocess needs the adapter; this process only asks whether one exists (no device of its own).
const hasAdapter = Deno.env.get("REQUIRE_GPU") === "1" || (await navigator.gpu?.requestAdapter()) != null;

Deno.test({
  name: "mod.ts works when imported by URL (shaders load over HTTP)",
  ignore: !hasAdapter,
  async fn() {
    const ac = new AbortController();
    const run = `/${crypto.randomUUID()}`;
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
      async (req) => {
        const full = decodeURIComponent(new URL(req.url).pathname);
        if (full.includes("..")) return new Response("bad path", { status: 400 });
        if (!full.startsWith(run + "/")) return new Response("not found", { status: 404 });
        const path = full.slice(run.length);
        try {
          const body = await Deno.readFile(new URL("." + path, root));
          const type = path.endsWith(".ts") ? "application/typescript" : "text/plain";
          return new Response(body, { headers: { "content-type": type } });
        } catch {
          return new Response("not found", { status: 404 });
        }
      },
    );
    const port = server.addr.port;
    const dir = await Deno.makeTempDir();
    try {
      const script = `${dir}/remote.ts`;
      await Deno.writeTextFile(
        script,
        `import * as addrop from "http://127.0.0.1:${port}${run}/mod.ts";\n` +
          `const gpu = await addrop.requestGpu();\n` +
          `const a = await addrop.createTensor(gpu, [3], "f32", { data: [1, 2, 3] });\n` +
          `const w = await addrop.createTensor(gpu, [2, 3], "f32", { data: [1, 0, 0, 0, 1, 1] });\n` +
          `const out = await addrop.createTensor(gpu, [1, 2]);\n` +
          `await addrop.runDispatches(gpu, await addrop.matmulForward(gpu, { out, inp: a, weight: w, bias: null },` +
          ` { M: 1, K: 3, N: 2 }));\n` +
          `const r = await addrop.readTensor(gpu, out);\n` +
          `console.log("RESULT " + JSON.stringify(Array.from(r)));\n` +
          `gpu.destroy();\n`,
      );
      const cmd = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-lock",
          "--no-config",
          "--reload=http://127.0.0.1",
          `--allow-import=127.0.0.1:${port}`,
          "--allow-env",
          "--allow-read",
          script,
        ],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      });
      const res = await cmd.output();
      const out = new TextDecoder().decode(res.stdout);
      const err = new TextDecoder().decode(res.stderr);
      assert.equal(res.code, 0, `remote run failed:\n${out}\n${err}`);
      assert.match(out, /RESULT \[1,5\]/);
    } finally {
      ac.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
