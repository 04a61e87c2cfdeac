import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/pseudo_label.ts";
import * as ref from "../../src/reference/pseudo_label.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats, readTensor } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { watchBindings } from "../_util/bindings.ts";
import { Rng } from "../_util/rng.ts";

for (const mode of ["onehot", "negative_ce"] as const) {
  for (const [rows, L] of [[3, 2], [255, 5], [256, 3], [257, 9], [1024, 9]]) {
    gpuTest(`pseudo-label gradient ${mode} rows=${rows} L=${L}`, async (g) => {
      const rng = new Rng(rows * 13 + L);
      const logits = rng.floats(rows * L, -3, 3);
      const targets = Int32Array.from({ length: rows }, () => (rng.next() < 0.3 ? -100 : rng.int(L)));
      const tl = await createTensor(g, [rows, L], "f32", { data: logits });
      const tt = await createTensor(g, [rows], "i32", { data: targets });
      const td = await createTensor(g, [rows, L], "f32", { data: rng.floats(rows * L) });
      await runDispatches(g, [
        await gpu.pseudoLabelGrad(g, { dlogits: td, logits: tl, targets: tt }, { rows, L, mode }),
      ]);
      assertClose(await readFloats(g, td), ref.pseudoLabelGrad(logits, targets, { rows, L, mode }), {
        atol: 1e-7,
        rtol: 1e-5,
      });
      for (const t of [tl, tt, td]) t.destroy();
    });
  }
}

for (const [rows, L] of [[3, 2], [255, 5], [256, 3], [257, 9], [128 * 4, 9]]) {
  gpuTest(`pseudo-label ids rows=${rows} L=${L}`, async (g) => {
    const rng = new Rng(rows * 7 + L);
    // Rounded logits make ties, which must go to the first maximum.
    const logits = Float32Array.from(rng.floats(rows * L, -3, 3), (x) => Math.round(x));
    const targets = Int32Array.from({ length: rows }, () => (rng.next() < 0.3 ? -100 : rng.int(L)));
    const tl = await createTensor(g, [rows, L], "f32", { data: logits });
    const tt = await createTensor(g, [rows], "i32", { data: targets });
    const ti = await createTensor(g, [rows], "i32", { data: new Int32Array(rows).fill(7) });
    await runDispatches(g, [
      await gpu.pseudoLabelIds(g, { labels: ti, logits: tl, targets: tt }, { rows, L }),
    ]);
    const got = Array.from(await readTensor(g, ti) as Int32Array);
    const want = Array.from(ref.pseudoLabelIds(logits, targets, { rows, L }));
    const bad = got.findIndex((x, i) => x !== want[i]);
    if (bad >= 0) throw new Error(`row ${bad}: got ${got[bad]}, expected ${want[bad]}`);
    for (const t of [tl, tt, ti]) t.destroy();
  });
}

// Logits above the binding limit (an LM head's) in row blocks: a 4 KiB limit holds 64 rows of L = 9 (blocks of
// 64 rows keep the labels' bindings at 256-byte offsets), so 150 rows take 3 blocks.
gpuTest("pseudo-label ids above the binding limit, in row blocks", async () => {
  await withGpu({ maxBindingBytes: 4096 }, async (g) => {
    const [rows, L] = [150, 9];
    const rng = new Rng(5);
    const logits = rng.floats(rows * L, -3, 3);
    const targets = Int32Array.from({ length: rows }, () => (rng.next() < 0.3 ? -100 : rng.int(L)));
    const tl = await createTensor(g, [rows, L], "f32", { data: logits });
    const tt = await createTensor(g, [rows], "i32", { data: targets });
    const ti = await createTensor(g, [rows], "i32", { data: new Int32Array(rows).fill(7) });
    const watch = watchBindings(g);
    const ds = await gpu.pseudoLabelIdsSplit(g, { labels: ti, logits: tl, targets: tt }, { rows, L });
    assert.equal(ds.length, 3);
    await runDispatches(g, ds);
    assert.ok(watch.max <= g.maxBindingBytes, `largest binding ${watch.max}`);
    assert.deepEqual(
      Array.from(await readTensor(g, ti) as Int32Array),
      Array.from(ref.pseudoLabelIds(logits, targets, { rows, L })),
    );
  });
});
