import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/dropout.ts";
import * as ref from "../../src/reference/dropout.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, writeTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

// WG = 256: boundaries 255, 256, 257 (one element per invocation where N % 4 != 0) and 1020, 1024, 1028 (the
// vec4 entry); an odd shape; the BERT-base hidden slice (T = 128, C = 768).
for (const n of [45 * 65, 255, 256, 257, 1020, 1024, 1028, 128 * 768]) {
  for (const p of [0, 0.1, 0.5]) {
    gpuTest(
      `dropout forward and backward match the reference mask exactly, N = ${n}, p = ${p}`,
      async (g) => {
        const data = new Rng(n).floats(n);
        const dout = new Rng(n + 1).floats(n);
        const acc0 = new Rng(n + 2).floats(n);
        const seed = 0xdeadbeef, step = 17;
        const o = { p, layer: 3, slot: 1 };
        const inp = await createTensor(g, [n], "f32", { data });
        const out = await createTensor(g, [n]);
        const tdout = await createTensor(g, [n], "f32", { data: dout });
        const dinp = await createTensor(g, [n]);
        const dacc = await createTensor(g, [n], "f32", { data: acc0 });
        const rng = await createTensor(g, [2], "u32", { data: [seed, step] });
        const ds = [
          await gpu.dropoutForward(g, { out, inp, rng }, o),
          await gpu.dropoutBackward(g, { dinp, dout: tdout, rng }, o),
          await gpu.dropoutBackward(g, { dinp: dacc, dout: tdout, rng }, { ...o, accumulate: true }),
        ];
        await runDispatches(g, ds);
        const got = await readFloats(g, out);
        const exact = { atol: 0, rtol: 0 };
        assertClose(got, ref.dropoutForward(data, { seed, step }, o), { ...exact, name: "out" });
        if (p === 0) assert.deepEqual(got, data, "p = 0 must copy exactly");
        const want = new Float32Array(n);
        ref.dropoutBackward(want, dout, { seed, step }, o);
        assertClose(await readFloats(g, dinp), want, { ...exact, name: "dinp" });
        const wantAcc = Float32Array.from(acc0);
        ref.dropoutBackward(wantAcc, dout, { seed, step }, { ...o, accumulate: true });
        assertClose(await readFloats(g, dacc), wantAcc, { ...exact, name: "dinp accumulated" });
        // Another step draws another mask (for p > 0), the same step the same one.
        writeTensor(g, rng, new Uint32Array([seed, step + 1]));
        await runDispatches(g, ds.slice(0, 1));
        const next = await readFloats(g, out);
        if (p > 0) {
          assert.notDeepEqual(next, got);
        }
        writeTensor(g, rng, new Uint32Array([seed, step]));
        await runDispatches(g, ds.slice(0, 1));
        assert.deepEqual(await readFloats(g, out), got);
        for (const t of [inp, out, tdout, dinp, dacc, rng]) t.destroy();
      },
    );
  }
}

gpuTest("dropout drops a share p of 2^20 elements (within 5 standard errors)", async (g) => {
  const n = 1 << 20;
  const inp = await createTensor(g, [n], "f32", { data: new Float32Array(n).fill(1) });
  const out = await createTensor(g, [n]);
  const rng = await createTensor(g, [2], "u32", { data: [7, 0] });
  for (const p of [0.1, 0.3]) {
    await runDispatches(g, [await gpu.dropoutForward(g, { out, inp, rng }, { p, layer: 0, slot: 0 })]);
    const got = await readFloats(g, out);
    let dropped = 0;
    for (const v of got) {
      if (v === 0) dropped++;
      else assert.equal(v, Math.fround(1 / (1 - p)));
    }
    const se = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(dropped / n - p) < 5 * se, `dropped share ${dropped / n}, expected ${p} +- ${5 * se}`);
  }
  for (const t of [inp, out, rng]) t.destroy();
});
