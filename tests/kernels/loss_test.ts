import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/loss.ts";
import * as ref from "../../src/reference/loss.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { watchBindings } from "../_util/bindings.ts";
import { Rng } from "../_util/rng.ts";

// Both layouts. `workgroup`: WG = 256 classes per pass: V = 255, 256, 257. `invocation`: 8 rows per
// workgroup: N = 7, 8, 9; vec4 loads where V % 4 = 0 (256, 4096, 8192, 4); where V % 4 != 0, unaligned rows
// read as vec4s when N * V % 4 = 0 (5, 7, 9, 65, 131, 8191; 32 vec4s per invocation of the gradient pass: rows
// shorter and longer than a run, runs crossing rows) and scalar loads otherwise (45 x 65, 3 x 255, 3 x 257).
// Also all rows ignored; N = 0; BERT-base slices: token classification (B*T = 2*128 rows, 9 labels), a
// 4096-class head over T = 128 rows and an 8192-word MLM head, mostly ignored; an OPUS-MT-like vocabulary of
// 8191 words.
const CE: [number, number, number][] = [
  [45, 65, 0.2],
  [3, 255, 0],
  [3, 256, 0],
  [3, 257, 0.3],
  [4, 5, 1],
  [0, 5, 0],
  [7, 4, 0.2],
  [8, 9, 0.2],
  [9, 12, 0.2],
  [256, 9, 0.1],
  [128, 4096, 0.1],
  [40, 8192, 0.85],
  [4, 7, 0.2],
  [16, 65, 0.3],
  [64, 131, 0.2],
  [12, 8191, 0.25],
];

for (const [N, V, ignoreShare] of CE) {
  for (const layout of ["workgroup", "invocation"] as const) {
    gpuTest(`cross-entropy ${layout} layout, N = ${N}, V = ${V}, ignored ${ignoreShare}`, async (g) => {
      const rng = new Rng(N * 31 + V);
      const x = rng.floats(N * V, -8, 8);
      const targets = Int32Array.from({ length: N }, () => rng.next() < ignoreShare ? -100 : rng.int(V));
      const logits = await createTensor(g, [N, V], "f32", { data: x });
      const tt = await createTensor(g, [N], "i32", { data: targets });
      const loss = await createTensor(g, [1]);
      const losses = await createTensor(g, [N], "f32", { data: new Float32Array(N).fill(Number.NaN) });
      const dlogits = await createTensor(g, [N, V], "f32", {
        data: new Float32Array(N * V).fill(Number.NaN),
      });
      const ds = await gpu.crossEntropyForward(g, { loss, losses, dlogits, logits, targets: tt }, {
        N,
        V,
        layout,
      });
      await runDispatches(g, ds);
      const want = ref.crossEntropyForward(x, targets, { N, V });
      const got = {
        loss: await readFloats(g, loss),
        losses: await readFloats(g, losses),
        d: await readFloats(g, dlogits),
      };
      assertClose(got.loss, [want.loss], { atol: 1e-5, rtol: 1e-5, name: "loss" });
      assertClose(got.losses, want.losses, { atol: 1e-5, rtol: 1e-5, name: "losses" });
      assertClose(got.d, want.dlogits, { atol: 1e-7, rtol: 1e-4, name: "dlogits" });
      await runDispatches(g, ds);
      assert.deepEqual(await readFloats(g, loss), got.loss);
      assert.deepEqual(await readFloats(g, losses), got.losses);
      assert.deepEqual(await readFloats(g, dlogits), got.d);
      for (const t of [logits, tt, loss, losses, dlogits]) t.destroy();
    });
  }
}

/** The cross-entropy of `x` (N, V) against `targets` on the GPU, checked against the reference. */
async function checkCrossEntropy(
  g: Gpu,
  x: Float32Array,
  targets: Int32Array,
  d: { N: number; V: number; layout: gpu.CrossEntropyLayout },
): Promise<void> {
  const { N, V } = d;
  const logits = await createTensor(g, [N, V], "f32", { data: x });
  const tt = await createTensor(g, [N], "i32", { data: targets });
  const [loss, losses, dlogits] = [
    await createTensor(g, [1]),
    await createTensor(g, [N]),
    await createTensor(g, [N, V]),
  ];
  const watch = watchBindings(g);
  await runDispatches(g, await gpu.crossEntropyForward(g, { loss, losses, dlogits, logits, targets: tt }, d));
  assert.ok(watch.max <= g.maxBindingBytes, `largest binding ${watch.max} (${watch.label})`);
  const want = ref.crossEntropyForward(x, targets, { N, V });
  assertClose(await readFloats(g, loss), [want.loss], { atol: 1e-5, rtol: 1e-5, name: "loss" });
  assertClose(await readFloats(g, losses), want.losses, { atol: 1e-5, rtol: 1e-5, name: "losses" });
  assertClose(await readFloats(g, dlogits), want.dlogits, { atol: 1e-7, rtol: 1e-4, name: "dlogits" });
  for (const t of [logits, tt, loss, losses, dlogits]) t.destroy();
}

// Logits above the binding limit (an LM head's) are bound in row blocks on either layout (the `invocation`
// kernels, the count and the mean over every row): a 12 KiB limit holds 64 rows of V = 36 or 37 (blocks of 64
// rows keep the per-row losses' bindings at 256-byte offsets), so N = 200 rows take 4 blocks.
for (const V of [36, 37]) {
  for (const layout of ["workgroup", "invocation"] as const) {
    gpuTest(`cross-entropy ${layout} layout, N = 200, V = ${V}, above the binding limit`, async () => {
      await withGpu({ maxBindingBytes: 12288 }, async (g) => {
        const N = 200;
        const rng = new Rng(V);
        const x = rng.floats(N * V, -8, 8);
        const targets = Int32Array.from({ length: N }, () => rng.next() < 0.2 ? -100 : rng.int(V));
        assert.ok(N * V * 4 > g.maxBindingBytes);
        await checkCrossEntropy(g, x, targets, { N, V, layout });
      });
    });
  }
}

// Rows without a target are never part of the result, whatever their logits hold (here NaN and 1e30, whose
// exp overflows): every layout and load path (V = 8: vec4 rows; 9 with N = 8: unaligned vec4s; 9 with N = 3:
// scalar loads).
for (const [N, V] of [[8, 8], [8, 9], [3, 9]]) {
  for (const layout of ["workgroup", "invocation"] as const) {
    gpuTest(
      `cross-entropy ${layout} layout, N = ${N}, V = ${V}: ignored rows holding NaN and 1e30`,
      async (g) => {
        const rng = new Rng(N * V);
        const x = rng.floats(N * V, -4, 4);
        const targets = Int32Array.from({ length: N }, (_, n) => n % 2 ? -100 : n % V);
        for (let n = 1; n < N; n += 2) x.fill(n % 4 === 1 ? Number.NaN : 1e30, n * V, (n + 1) * V);
        await checkCrossEntropy(g, x, targets, { N, V, layout });
      },
    );
  }
}

// WG = 64: N = 63, 64, 65; N = 0 (loss 0, no NaN); an odd N; a batch of 16 regression outputs.
for (const N of [0, 1, 16, 63, 64, 65, 1001]) {
  gpuTest(`MSE loss and dpred, N = ${N}`, async (g) => {
    const rng = new Rng(N + 5);
    const p = rng.floats(N, -3, 3);
    const y = rng.floats(N, 0, 5);
    const pred = await createTensor(g, [N], "f32", { data: p });
    const target = await createTensor(g, [N], "f32", { data: y });
    const loss = await createTensor(g, [1], "f32", { data: [Number.NaN] });
    const dpred = await createTensor(g, [N]);
    const d = await gpu.mseForward(g, { loss, dpred, pred, target }, { N });
    await runDispatches(g, [d]);
    const want = ref.mseForward(p, y);
    const got = await readFloats(g, loss);
    assertClose(got, [want.loss], { atol: 1e-6, rtol: 1e-5, name: "loss" });
    assertClose(await readFloats(g, dpred), want.dpred, { atol: 1e-7, rtol: 1e-5, name: "dpred" });
    await runDispatches(g, [d]);
    assert.deepEqual(await readFloats(g, loss), got);
    for (const t of [pred, target, loss, dpred]) t.destroy();
  });
}
