import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/select.ts";
import * as ref from "../../src/reference/select.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

type Opts = gpu.SelectOptions;

async function thrOnGpu(g: Gpu, scores: Float32Array, lengths: Uint32Array, o: Opts) {
  const s = await createTensor(g, [o.R, o.L], "f32", { data: scores });
  const l = await createTensor(g, [lengths.length], "u32", { data: lengths });
  const thr = await createTensor(g, [o.R]);
  const d = await gpu.selectRank(g, { thr, scores: s, lengths: l }, o);
  await runDispatches(g, d);
  const out = await readFloats(g, thr);
  for (const t of [s, l, thr]) t.destroy();
  return { thr: out, dispatches: d.length };
}

/** Scores with many ties (a few distinct values) or continuous ones, and per-row lengths with 0, 1 and L. */
function data(seed: number, R: number, L: number, ties: boolean) {
  const rng = new Rng(seed);
  const scores = new Float32Array(R * L);
  for (let i = 0; i < scores.length; i++) scores[i] = ties ? rng.int(5) - 2 : rng.normal();
  const lengths = new Uint32Array(R);
  for (let r = 0; r < R; r++) lengths[r] = [0, 1, L, L - 1][r] ?? rng.int(L + 1);
  return { scores, lengths };
}

// One invocation per 4 entries, WG = 32 up to L = 128, 64 up to 256, 128 up to 512: boundaries 128/129,
// 256/257, the largest rows 511 and 512, odd 7 and 45.
// The invocation layout (one row per invocation, a search on the keys) on the same rows, and signed zeros
// (sorted -0 before +0).
for (const L of [1, 7, 45, 127, 128, 129, 256, 257, 511, 512]) {
  for (const layout of ["workgroup", "invocation"] as const) {
    gpuTest(`selectRank exact vs sort (ties, n = 0, 1, L), L = ${L}, ${layout} layout`, async (g) => {
      const R = 24;
      for (const ties of [true, false]) {
        const { scores, lengths } = data(L, R, L, ties);
        if (ties && layout === "invocation") {
          scores.forEach((x, i) => x === 0 && i % 2 === 0 && (scores[i] = -0));
        }
        for (const mode of ["high", "low"] as const) {
          for (const p of [0, 0.3, 0.5, 0.8, 1]) {
            const o = { R, L, rowsPerExample: 1, p, mode, layout };
            const { thr } = await thrOnGpu(g, scores, lengths, o);
            assert.deepEqual(thr, ref.selectRank(scores, lengths, o), `mode ${mode} p ${p} ties ${ties}`);
          }
        }
      }
    });
  }
}

gpuTest(
  "selectRank on a BERT-base attention slice: B = 2, NH = 12, T = 128, per-example lengths",
  async (g) => {
    const B = 2, NH = 12, T = 128;
    const R = B * NH * T;
    const rng = new Rng(11);
    const scores = Float32Array.from({ length: R * T }, () => Math.round(rng.normal() * 50) / 50);
    const lengths = new Uint32Array([77, 128]);
    for (const mode of ["high", "low"] as const) {
      const o = { R, L: T, rowsPerExample: NH * T, p: 0.3, mode };
      const a = await thrOnGpu(g, scores, lengths, o);
      const b = await thrOnGpu(g, scores, lengths, o);
      assert.deepEqual(a.thr, ref.selectRank(scores, lengths, o));
      assert.deepEqual(a.thr, b.thr, "bit-identical run to run");
    }
  },
);

gpuTest("selectRank edge cases: n = 0 and p = 0 select nothing, p = 1 selects all, n = 1", async (g) => {
  const scores = new Float32Array([5, 3, 4, 1, 9, 9, 9, 2]);
  const run = (lengths: number[], p: number, mode: "high" | "low") =>
    thrOnGpu(g, scores, new Uint32Array(lengths), { R: 2, L: 4, rowsPerExample: 1, p, mode }).then((
      x,
    ) => [...x.thr]);
  assert.deepEqual(await run([0, 4], 0.5, "high"), [Infinity, 9]);
  assert.deepEqual(await run([0, 4], 0.5, "low"), [-Infinity, 9]); // ties: index 1 of [2, 9, 9, 9]
  assert.deepEqual(await run([4, 4], 0, "high"), [Infinity, Infinity]);
  assert.deepEqual(await run([4, 4], 0, "low"), [-Infinity, -Infinity]);
  assert.deepEqual(await run([4, 4], 1, "high"), [1, 2]);
  assert.deepEqual(await run([4, 4], 1, "low"), [5, 9]);
  assert.deepEqual(await run([1, 1], 0.3, "high"), [5, 9]);
  assert.deepEqual(await run([1, 1], 0.3, "low"), [5, 9]);
  assert.deepEqual(await run([3, 4], 0.25, "high"), [5, 9]); // ties: index 3 of [2, 9, 9, 9]
  assert.deepEqual(await run([9, 4], 0.5, "low"), [3, 9]); // n clamped to L = 4
});

gpuTest("selectRank splits rows above the binding limit (>= 3 aligned ranges)", async () => {
  await withGpu({ maxBindingBytes: 1024 }, async (small) => {
    const R = 50, L = 16; // 64-byte rows: 16 rows per range
    const { scores, lengths } = data(3, R, L, true);
    const o = { R, L, rowsPerExample: 1, p: 0.4, mode: "high" as const };
    const { thr, dispatches } = await thrOnGpu(small, scores, lengths, o);
    assert.equal(dispatches, 4);
    assert.deepEqual(thr, ref.selectRank(scores, lengths, o));
  });
});

Deno.test("selectRank rejects rows longer than 512 and p outside [0, 1]", async () => {
  const fake = {} as Gpu;
  const t = {} as never;
  await assert.rejects(
    () => gpu.selectRank(fake, t, { R: 1, L: 513, rowsPerExample: 1, p: 0.5, mode: "high" }),
    /L = 513/,
  );
  await assert.rejects(
    () => gpu.selectRank(fake, t, { R: 1, L: 4, rowsPerExample: 1, p: 1.5, mode: "high" }),
    /p = 1.5/,
  );
});
