import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/matmul.ts";
import * as ref from "../../src/reference/matmul.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, writeTensor } from "../../src/gpu/tensor.ts";
import { ShapeError } from "../../src/kernels/shapes.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, onHardware, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";
import { watchBindings } from "../_util/bindings.ts";

const VARIANTS: gpu.MatmulVariant[] = ["cpu", "cpu-storage", "gpu"];

/** A test of one variant: the software variants are not run on a real GPU (see `onHardware`). */
function variantTest(variant: gpu.MatmulVariant, name: string, fn: Parameters<typeof gpuTest>[1]): void {
  gpuTest(name, fn, { ignore: onHardware && variant !== "gpu" });
}

// The cpu-storage variant's invocation owns 32 rows x 16 columns, 8 invocations (128 columns) per workgroup,
// and reads and writes vec4 (K and N multiples of 4; otherwise it runs the tiled kernel, as on the odd shape),
// so its boundaries move M by 1 and K, N by 4. The cpu variant (the packed kernel) owns 64 x 32 blocks and
// stores c as scalars where N % 4 != 0 (the odd shape, N = 9 and 131). The gpu variant's workgroup owns a 64 x 64
// tile, K in steps of 16.
const SHAPES = [
  { M: 45, K: 65, N: 33 }, // odd (cpu variant: tiled fallback)
  { M: 45, K: 68, N: 36 }, // odd M, vec4-aligned K and N
  { M: 31, K: 12, N: 12 }, // cpu block - 1
  { M: 32, K: 16, N: 16 }, // cpu block
  { M: 33, K: 20, N: 20 }, // cpu block + 1
  { M: 63, K: 60, N: 124 }, // gpu tile - 1, cpu workgroup - 1
  { M: 64, K: 64, N: 128 }, // gpu tile, cpu workgroup
  { M: 65, K: 68, N: 132 }, // gpu tile + 1, cpu workgroup + 1
  { M: 128, K: 768, N: 768 }, // BERT-base slice (T = 128, C = 768): attention projections
  { M: 128, K: 768, N: 3072 }, // BERT-base slice: feed-forward up-projection
  { M: 9, K: 3, N: 8 }, // with the bias one texel of k: the packed kernel's second texel per step is empty
  { M: 70, K: 64, N: 9 }, // a token-classification head (9 labels): the packed kernel with scalar stores of c
  { M: 66, K: 36, N: 131 }, // N % 4 = 3 past a 32-column block, M past a 64-row block
];

function tol(K: number) {
  return { atol: 2e-5 * Math.sqrt(K), rtol: 1e-4 };
}

for (const variant of VARIANTS) {
  for (const [si, s] of SHAPES.entries()) {
    const label = `M=${s.M} K=${s.K} N=${s.N} variant=${variant}`;
    variantTest(variant, `matmul forward ${label}`, async (g) => {
      const rng = new Rng(si * 7 + 1);
      const inp = rng.floats(s.M * s.K);
      const weight = rng.floats(s.N * s.K);
      const bias = si % 2 === 0 ? rng.floats(s.N) : null;
      const tInp = await createTensor(g, [s.M, s.K], "f32", { data: inp });
      const tW = await createTensor(g, [s.N, s.K], "f32", { data: weight });
      const tB = bias ? await createTensor(g, [s.N], "f32", { data: bias }) : null;
      const out = await createTensor(g, [s.M, s.N]);
      const ds = await gpu.matmulForward(g, { out, inp: tInp, weight: tW, bias: tB }, { ...s, variant });
      const aligned = s.K % 4 === 0 && s.N % 4 === 0;
      const file = variant === "cpu"
        ? (s.N % 4 === 0 ? "matmul_packed.wgsl" : "matmul_packed.wgsl (scalar c)")
        : variant === "cpu-storage" && aligned
        ? "matmul_nt.wgsl"
        : "matmul_tiled.wgsl";
      assert.equal(ds[ds.length - 1].kernel.source.file, file, "kernel chosen for the variant");
      await runDispatches(g, ds);
      const first = await readFloats(g, out);
      assertClose(first, ref.matmulForward(inp, weight, bias, s), { ...tol(s.K), name: "out" });
      await runDispatches(g, ds);
      assert.deepEqual(await readFloats(g, out), first, "bit-identical on a second run");
    });

    variantTest(variant, `matmul backward ${label}`, async (g) => {
      const rng = new Rng(si * 7 + 2);
      const dout = rng.floats(s.M * s.N);
      const inp = rng.floats(s.M * s.K);
      const weight = rng.floats(s.N * s.K);
      // Parameter gradients accumulate onto what is there; dinp too on every other shape.
      const accumulateInput = si % 2 === 1;
      const dinp0 = accumulateInput ? rng.floats(s.M * s.K) : new Float32Array(s.M * s.K);
      const dweight0 = rng.floats(s.N * s.K);
      const dbias0 = rng.floats(s.N);
      const t = {
        dinp: await createTensor(g, [s.M, s.K], "f32", { data: dinp0 }),
        dweight: await createTensor(g, [s.N, s.K], "f32", { data: dweight0 }),
        dbias: await createTensor(g, [s.N], "f32", { data: dbias0 }),
        dout: await createTensor(g, [s.M, s.N], "f32", { data: dout }),
        inp: await createTensor(g, [s.M, s.K], "f32", { data: inp }),
        weight: await createTensor(g, [s.N, s.K], "f32", { data: weight }),
      };
      const ds = await gpu.matmulBackward(g, t, { ...s, accumulateInput, variant });
      if (variant === "cpu-storage" && s.K % 4 === 0 && s.N % 4 === 0) {
        assert.ok(ds.some((d) => d.kernel.source.file === "matmul_tn.wgsl"), "dweight runs matmul_tn");
      }
      if (variant === "cpu" && s.K % 4 === 0) {
        const tn = ds.filter((d) => d.kernel.source.file === "matmul_packed_tn.wgsl");
        assert.equal(tn.length, 1, "dweight runs matmul_packed_tn (its operands untransposed)");
      }
      const db = ds[ds.length - 1].kernel;
      assert.equal(db.source.file, "matmul_dbias.wgsl");
      assert.equal(
        db.source.entryPoint ?? "main",
        variant === "gpu" ? "lanes" : "main",
        "dbias: rows in lanes on GPUs",
      );
      const run = async () => {
        writeTensor(g, t.dinp, dinp0);
        writeTensor(g, t.dweight, dweight0);
        writeTensor(g, t.dbias, dbias0);
        await runDispatches(g, ds);
        return [await readFloats(g, t.dinp), await readFloats(g, t.dweight), await readFloats(g, t.dbias)];
      };
      const [dinp, dweight, dbias] = await run();
      const e = ref.matmulBackward(dout, inp, weight, s);
      const plus = (a: Float32Array, b: Float32Array) => a.map((x, i) => x + b[i]);
      assertClose(dinp, plus(dinp0, e.dinp), { ...tol(s.N), name: "dinp" });
      assertClose(dweight, plus(dweight0, e.dweight), { ...tol(s.M), name: "dweight" });
      assertClose(dbias, plus(dbias0, e.dbias), { ...tol(s.M), name: "dbias" });
      const again = await run();
      assert.deepEqual(again, [dinp, dweight, dbias], "bit-identical on a second run");
    });
  }
}

const BATCHED = [
  { batch: 3, M: 17, N: 33, K: 45 }, // odd
  { batch: 2, M: 64, N: 40, K: 36 }, // multiples of 4 (vec4 paths)
];

for (const variant of VARIANTS) {
  for (const [si, s] of BATCHED.entries()) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const dims = { ...s, transA, transB, alpha: 0.75, variant };
        variantTest(variant, `batchedMatmul ${JSON.stringify(dims)}`, async (g) => {
          const rng = new Rng(si * 11 + (transA ? 2 : 0) + (transB ? 1 : 0));
          const a = rng.floats(s.batch * s.M * s.K);
          const b = rng.floats(s.batch * s.K * s.N);
          const out0 = rng.floats(s.batch * s.M * s.N);
          const ta = await createTensor(g, [s.batch, transA ? s.K : s.M, transA ? s.M : s.K], "f32", {
            data: a,
          });
          const tb = await createTensor(g, [s.batch, transB ? s.N : s.K, transB ? s.K : s.N], "f32", {
            data: b,
          });
          const out = await createTensor(g, [s.batch, s.M, s.N], "f32", { data: out0 });
          const e = ref.batchedMatmul(a, b, dims);
          await runDispatches(g, await gpu.batchedMatmul(g, { out, a: ta, b: tb }, dims));
          assertClose(await readFloats(g, out), e, { ...tol(s.K), name: "out (=)" });
          const acc = await gpu.batchedMatmul(g, { out, a: ta, b: tb }, { ...dims, accumulate: true });
          writeTensor(g, out, out0);
          await runDispatches(g, acc);
          const first = await readFloats(g, out);
          assertClose(first, e.map((x, i) => x + out0[i]), { ...tol(s.K), name: "out (+=)" });
          writeTensor(g, out, out0);
          await runDispatches(g, acc);
          assert.deepEqual(await readFloats(g, out), first, "bit-identical on a second run");
        });
      }
    }
  }
}

// Attention-shaped products at BERT-base size (12 heads, T = 128, head size 64): Q K^T and P V.
for (const variant of VARIANTS) {
  variantTest(variant, `batchedMatmul BERT attention slice variant=${variant}`, async (g) => {
    const rng = new Rng(99);
    const [H, T, D] = [12, 128, 64];
    const q = rng.floats(H * T * D);
    const k = rng.floats(H * T * D);
    const tq = await createTensor(g, [H, T, D], "f32", { data: q });
    const tk = await createTensor(g, [H, T, D], "f32", { data: k });
    const att = await createTensor(g, [H, T, T]);
    const o = await createTensor(g, [H, T, D]);
    const qk = { batch: H, M: T, N: T, K: D, transA: false, transB: true, alpha: 0.125, variant };
    const pv = { batch: H, M: T, N: D, K: T, transA: false, transB: false, variant };
    await runDispatches(g, [
      ...await gpu.batchedMatmul(g, { out: att, a: tq, b: tk }, qk),
      ...await gpu.batchedMatmul(g, { out: o, a: att, b: tk }, pv),
    ]);
    const eAtt = ref.batchedMatmul(q, k, qk);
    assertClose(await readFloats(g, att), eAtt, { ...tol(D), name: "Q K^T" });
    assertClose(await readFloats(g, o), ref.batchedMatmul(eAtt, k, pv), { ...tol(T * 4), name: "P V" });
  });
}

Deno.test("reference matmulBackward matches finite differences of matmulForward", () => {
  const s = { M: 3, K: 4, N: 5 };
  const rng = new Rng(5);
  const inp = rng.floats(s.M * s.K);
  const weight = rng.floats(s.N * s.K);
  const bias = rng.floats(s.N);
  const dout = rng.floats(s.M * s.N);
  const loss = () => ref.matmulForward(inp, weight, bias, s).reduce((acc, x, i) => acc + x * dout[i], 0);
  const e = ref.matmulBackward(dout, inp, weight, s);
  const eps = 1e-2;
  for (
    const [name, x, grad] of [["inp", inp, e.dinp], ["weight", weight, e.dweight], [
      "bias",
      bias,
      e.dbias,
    ]] as const
  ) {
    for (let i = 0; i < x.length; i++) {
      const keep = x[i];
      x[i] = keep + eps;
      const up = loss();
      x[i] = keep - eps;
      const down = loss();
      x[i] = keep;
      const fd = (up - down) / (2 * eps);
      assert.ok(
        Math.abs(fd - grad[i]) <= 1e-3 * (1 + Math.abs(fd)),
        `d${name}[${i}]: fd ${fd} vs ${grad[i]}`,
      );
    }
  }
});

/** Random inp, weight, bias and dout of a linear layer of shape `s`, with GPU tensors for every operand. */
async function linearCase(g: Gpu, s: { M: number; K: number; N: number }, seed: number) {
  const rng = new Rng(seed);
  const x = {
    inp: rng.floats(s.M * s.K),
    weight: rng.floats(s.N * s.K),
    bias: rng.floats(s.N),
    dout: rng.floats(s.M * s.N),
  };
  const t = {
    inp: await createTensor(g, [s.M, s.K], "f32", { data: x.inp }),
    weight: await createTensor(g, [s.N, s.K], "f32", { data: x.weight }),
    bias: await createTensor(g, [s.N], "f32", { data: x.bias }),
    out: await createTensor(g, [s.M, s.N]),
    dout: await createTensor(g, [s.M, s.N], "f32", { data: x.dout }),
    dinp: await createTensor(g, [s.M, s.K]),
    dweight: await createTensor(g, [s.N, s.K]),
    dbias: await createTensor(g, [s.N]),
  };
  return { x, t, rng };
}

/** Checks out, dinp, dweight and (with `dbias`) dbias of a {@linkcode linearCase} against the reference. */
async function checkLinear(
  g: Gpu,
  s: { M: number; K: number; N: number },
  x: Awaited<ReturnType<typeof linearCase>>["x"],
  t: Awaited<ReturnType<typeof linearCase>>["t"],
  dbias: boolean,
): Promise<void> {
  assertClose(await readFloats(g, t.out), ref.matmulForward(x.inp, x.weight, x.bias, s), {
    ...tol(s.K),
    name: "out",
  });
  const e = ref.matmulBackward(x.dout, x.inp, x.weight, s);
  assertClose(await readFloats(g, t.dinp), e.dinp, { ...tol(s.N), name: "dinp" });
  assertClose(await readFloats(g, t.dweight), e.dweight, { ...tol(s.M), name: "dweight" });
  if (dbias) assertClose(await readFloats(g, t.dbias), e.dbias, { ...tol(s.M), name: "dbias" });
}

gpuTest("matmul forward rejects mismatched shapes", async (g) => {
  const a = await createTensor(g, [4, 3]);
  const w = await createTensor(g, [5, 2]);
  const o = await createTensor(g, [4, 5]);
  await assert.rejects(
    () => gpu.matmulForward(g, { out: o, inp: a, weight: w, bias: null }, { M: 4, K: 3, N: 5 }),
    ShapeError,
  );
});

gpuTest("matmul names a tensor above the binding limit", async () => {
  await withGpu({ maxBindingBytes: 1024 }, async (g: Gpu) => {
    const inp = await createTensor(g, [4, 8]);
    const weight = await createTensor(g, [64, 8]); // 2048 bytes
    const out = await createTensor(g, [4, 64]);
    await assert.rejects(
      () => gpu.matmulForward(g, { out, inp, weight, bias: null }, { M: 4, K: 8, N: 64 }),
      (e: Error) => e instanceof ShapeError && /'weight'.*2048 bytes.*maxBindingBytes = 1024/.test(e.message),
    );
  });
});

// inp, out, dout and dinp above the binding limit (an LM head's logits) are bound in row blocks: with a 4 KiB
// limit, M = 100 rows of N = 24 floats go in blocks of 40 rows (a multiple of 8, so that each block starts at a
// 256-byte offset); the weight's gradient and the bias's sum over the blocks.
for (const variant of VARIANTS) {
  variantTest(
    variant,
    `matmul ${variant}: inp, out, dout and dinp above the binding limit in row blocks`,
    async () => {
      await withGpu({ maxBindingBytes: 4096 }, async (g: Gpu) => {
        const s = { M: 100, K: 8, N: 24, variant };
        const { x, t } = await linearCase(g, s, 91);
        assert.ok(t.out.byteSize > g.maxBindingBytes);
        const watch = watchBindings(g);
        await runDispatches(g, [
          ...await gpu.matmulForward(g, { out: t.out, inp: t.inp, weight: t.weight, bias: t.bias }, s),
          ...await gpu.matmulBackward(g, {
            dinp: t.dinp,
            dweight: t.dweight,
            dbias: t.dbias,
            dout: t.dout,
            inp: t.inp,
            weight: t.weight,
          }, s),
        ]);
        assert.ok(watch.max <= g.maxBindingBytes, `largest binding ${watch.max} (${watch.label})`);
        await checkLinear(g, s, x, t, true);
      });
    },
  );
}

// The packed products chunk their rows so that each staging buffer fits one binding: a forced 8 KiB limit
// makes 32-row chunks, so M = 45 and N = 36 each take two chunks; dweight's TN product, two chunks of its
// summed M rows, the second accumulating; a batched TN product, chunks of batches.
gpuTest("packed matmul in row, column and batch chunks (8 KiB binding limit)", async () => {
  await withGpu({ maxBindingBytes: 8192, kernels: "software" }, async (g: Gpu) => {
    const s = { M: 45, K: 40, N: 36 };
    const { x, t, rng } = await linearCase(g, s, 77);
    const fwd = await gpu.matmulForward(g, { out: t.out, inp: t.inp, weight: t.weight, bias: t.bias }, s);
    const products = fwd.filter((d) => d.kernel.source.file === "matmul_packed.wgsl").length;
    assert.equal(products, 4, "2 row chunks x 2 column chunks");
    const bwd = await gpu.matmulBackward(g, { ...t, dbias: null }, s);
    const tn = bwd.filter((d) => d.kernel.source.file === "matmul_packed_tn.wgsl");
    assert.equal(tn.length, 2, "dweight: 2 chunks of the summed rows");
    await runDispatches(g, [...fwd, ...bwd]);
    await checkLinear(g, s, x, t, false);
    for (const transA of [false, true]) {
      // transA: both operands K-major, the TN product; else the NT one.
      const b = { batch: 5, M: 12, N: 8, K: 16, transA, transB: false, alpha: 0.5 };
      const a = rng.floats(b.batch * b.M * b.K);
      const bb = rng.floats(b.batch * b.K * b.N);
      const ta = await createTensor(g, transA ? [b.batch, b.K, b.M] : [b.batch, b.M, b.K], "f32", {
        data: a,
      });
      const tb = await createTensor(g, [b.batch, b.K, b.N], "f32", { data: bb });
      const out = await createTensor(g, [b.batch, b.M, b.N]);
      const ds = await gpu.batchedMatmul(g, { out, a: ta, b: tb }, b);
      const file = transA ? "matmul_packed_tn.wgsl" : "matmul_packed.wgsl";
      assert.ok(ds.filter((d) => d.kernel.source.file === file).length > 1, `batch chunks of ${file}`);
      await runDispatches(g, ds);
      assertClose(await readFloats(g, out), ref.batchedMatmul(a, bb, b), { ...tol(b.K), name: file });
    }
  });
}, { ignore: onHardware });
