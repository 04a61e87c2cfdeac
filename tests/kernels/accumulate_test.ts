import * as gpu from "../../src/kernels/accumulate.ts";
import * as ref from "../../src/reference/accumulate.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

for (const mode of ["set", "add", "multiply"] as const) {
  for (const n of [45 * 65, 255, 256, 257, 2 * 12 * 128 * 128]) {
    gpuTest(`accumulate ${mode}, N = ${n}`, async (g) => {
      const rng = new Rng(n + mode.length);
      const out = rng.floats(n);
      const x = rng.floats(n);
      const to = await createTensor(g, [n], "f32", { data: out });
      const tx = await createTensor(g, [n], "f32", { data: x });
      const d = await gpu.accumulate(g, { out: to, x: tx }, { mode, s: 0.3 });
      await runDispatches(g, [d, d]); // twice: `add` and `multiply` compound, `set` does not
      ref.accumulate(out, x, { mode, s: 0.3 });
      ref.accumulate(out, x, { mode, s: 0.3 });
      assertClose(await readFloats(g, to), out, { atol: 1e-7, rtol: 1e-6, name: `accumulate ${mode}` });
      to.destroy();
      tx.destroy();
    });
  }
}

gpuTest("accumulate: the default s is 1 and sizes must match", async (g) => {
  const to = await createTensor(g, [3], "f32", { data: [1, 2, 3] });
  const tx = await createTensor(g, [3], "f32", { data: [10, 20, 30] });
  await runDispatches(g, [await gpu.accumulate(g, { out: to, x: tx }, { mode: "add" })]);
  assertClose(await readFloats(g, to), [11, 22, 33], { atol: 0, rtol: 0 });
  const short = await createTensor(g, [2], "f32");
  let threw = false;
  try {
    await gpu.accumulate(g, { out: to, x: short }, { mode: "set" });
  } catch {
    threw = true;
  }
  if (!threw) throw new Error("accumulate accepted tensors of different sizes");
  for (const t of [to, tx, short]) t.destroy();
});
