import assert from "node:assert/strict";
import { describeAdapter } from "../../src/gpu/device.ts";
import { CommandBatch, prepareDispatch, runDispatches } from "../../src/gpu/encoder.ts";
import { GpuValidationError, OutOfMemoryError, ShaderCompileError } from "../../src/gpu/errors.ts";
import { ParamPack } from "../../src/gpu/params.ts";
import { BufferPool } from "../../src/gpu/pool.ts";
import { readTensor } from "../../src/gpu/readback.ts";
import { createTensor, writeTensor } from "../../src/gpu/tensor.ts";
import { residualForward } from "../../src/kernels/residual.ts";
import { timeGpu } from "../../src/gpu/timing.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { timeDispatches } from "../../bench/_util.ts";

gpuTest("device: asks for the adapter's maximum limits and describes the adapter", (gpu) => {
  const a = gpu.adapter.limits;
  const d = gpu.device.limits;
  assert.equal(d.maxStorageBufferBindingSize, a.maxStorageBufferBindingSize);
  assert.equal(d.maxBufferSize, a.maxBufferSize);
  assert.equal(d.maxComputeWorkgroupStorageSize, a.maxComputeWorkgroupStorageSize);
  assert.equal(d.maxComputeInvocationsPerWorkgroup, a.maxComputeInvocationsPerWorkgroup);
  assert.equal(gpu.hasTimestamps, gpu.adapter.features.has("timestamp-query"));
  const desc = describeAdapter(gpu.adapter);
  assert.ok(desc.name.length > 0);
  assert.equal(desc.limits.maxStorageBufferBindingSize, a.maxStorageBufferBindingSize);
  assert.ok(desc.kind === "software" || desc.kind === "hardware");
});

gpuTest("pipeline cache: one compile per shader and constants", async (gpu) => {
  const src = {
    file: "cache_probe.wgsl",
    code: "override WG: u32 = 64;\n@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n" +
      "@compute @workgroup_size(WG) fn main(@builtin(global_invocation_id) g: vec3<u32>) { o[g.x] = 1.0; }",
    bindings: ["read_write"] as const,
  };
  const before = gpu.pipelines.size;
  const a = await gpu.pipelines.get(src, { WG: 32 });
  const b = await gpu.pipelines.get(src, { WG: 32 });
  const c = await gpu.pipelines.get(src, { WG: 64 });
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.equal(gpu.pipelines.size, before + 2);
});

gpuTest("shader compile errors name the file and line", async (gpu) => {
  const code =
    "// first line\n@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = undefined_thing;\n}\n";
  await assert.rejects(
    () => gpu.pipelines.get({ file: "broken_probe.wgsl", code, bindings: [] }),
    (e: unknown) => {
      assert.ok(e instanceof ShaderCompileError);
      assert.match(e.message, /broken_probe\.wgsl:4:/);
      assert.match(e.message, /undefined_thing/);
      return true;
    },
  );
});

gpuTest("allocations beyond the limit are OutOfMemoryError naming the bytes and the limit", async (gpu) => {
  const limit = gpu.device.limits.maxBufferSize;
  const elements = Math.floor(limit / 4) + 16;
  await assert.rejects(
    () => createTensor(gpu, [elements], "f32", { label: "huge probe" }),
    (e: unknown) => {
      assert.ok(e instanceof OutOfMemoryError);
      assert.equal(e.limitBytes, limit);
      assert.ok(e.requestedBytes > limit);
      assert.match(e.message, /huge probe/);
      return true;
    },
  );
});

gpuTest("wrong binding counts are validation errors before reaching the GPU", async (gpu) => {
  const kernel = await gpu.pipelines.get({
    file: "binding_probe.wgsl",
    code: "struct P { n: u32 }\n@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n" +
      "@group(0) @binding(1) var<uniform> p: P;\n" +
      "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {\n" +
      "  if (g.x < p.n) { o[g.x] = f32(g.x); }\n}",
    bindings: ["read_write", "uniform"],
  });
  const t = await createTensor(gpu, [100]);
  assert.throws(
    () => prepareDispatch(gpu, kernel, [], new ParamPack().u32(100).bytes(), [2]),
    GpuValidationError,
  );
  assert.throws(() => prepareDispatch(gpu, kernel, [t], null, [2]), GpuValidationError);
  const d = prepareDispatch(gpu, kernel, [t], new ParamPack().u32(100).bytes(), [2]);
  await runDispatches(gpu, [d]);
  const out = await readTensor(gpu, t);
  assert.equal(out[99], 99);
  d.setParams(gpu, new ParamPack().u32(10).bytes());
  t.destroy();
});

gpuTest("pool reuses released buffers of the same size class", (gpu) => {
  const usage = GPUBufferUsage.STORAGE;
  const a = gpu.pool.acquire(1000, usage);
  gpu.pool.release(a);
  const b = gpu.pool.acquire(1020, usage);
  assert.equal(a, b);
  assert.equal(BufferPool.sizeClass(1000), 1024);
  assert.ok(BufferPool.sizeClass(3000) >= 3000 && BufferPool.sizeClass(3000) < 3000 * 1.25);
  gpu.pool.release(b);
});

gpuTest("GPU timing returns positive medians", async (gpu) => {
  const t = await createTensor(gpu, [1 << 16]);
  const timing = await timeGpu(gpu, (batch) => {
    batch.zero(t);
  }, { warmup: 1, repeats: 3 });
  assert.equal(timing.samples.length, 3);
  assert.ok(timing.min <= timing.median && timing.median <= timing.max);
  assert.ok(timing.median >= 0);
  t.destroy();
});

gpuTest("split() gives each dispatch its own pass; timeDispatches times each one", async (gpu) => {
  const [a, b, out] = [
    await createTensor(gpu, [1024]),
    await createTensor(gpu, [1024]),
    await createTensor(gpu, [1024]),
  ];
  const d = await residualForward(gpu, { out, inp1: a, inp2: b });
  const one = new CommandBatch(gpu, "one pass").run(d, d);
  const two = new CommandBatch(gpu, "two passes").run(d).split().run(d);
  assert.equal(one.passes, 1);
  assert.equal(two.passes, 2);
  one.submit();
  two.submit();
  const t = await timeDispatches(gpu, [d, d, d], 4, 2);
  if (gpu.hasTimestamps) {
    assert.ok(t);
    assert.equal(t.run.length, 3);
    assert.equal(t.between.length, 3);
    assert.equal(t.totals.length, 2);
    assert.ok([...t.run, ...t.between, ...t.totals].every((x) => Number.isFinite(x) && x >= 0));
    assert.ok(t.wall > 0);
  } else assert.equal(t, null);
  d.destroy();
  for (const x of [a, b, out]) x.destroy();
});

gpuTest("tensor views: write, read, zero and bind a range of a buffer", async (gpu) => {
  const align = gpu.device.limits.minStorageBufferOffsetAlignment / 4;
  const base = await createTensor(gpu, [4 * align + 8], "f32", { label: "arena" });
  const v = base.view([6], 2 * align, "slice");
  writeTensor(gpu, v, new Float32Array([1, 2, 3, 4, 5, 6]));
  const all = await readTensor(gpu, base);
  assert.deepEqual(Array.from(all.slice(2 * align - 1, 2 * align + 7)), [0, 1, 2, 3, 4, 5, 6, 0]);
  assert.deepEqual(Array.from(await readTensor(gpu, v)), [1, 2, 3, 4, 5, 6]);
  const other = await createTensor(gpu, [6], "f32", { data: [10, 20, 30, 40, 50, 60] });
  // WebGPU forbids binding one buffer both read-only and read-write in a dispatch, so the output lives in
  // another arena.
  const outArena = await createTensor(gpu, [2 * align + 6], "f32", { label: "out arena" });
  const out = outArena.view([6], align);
  await runDispatches(gpu, [await residualForward(gpu, { out, inp1: v, inp2: other })]);
  assert.deepEqual(Array.from(await readTensor(gpu, out)), [11, 22, 33, 44, 55, 66]);
  const batch = new CommandBatch(gpu, "zero view");
  batch.zero(v).submit();
  await gpu.sync();
  assert.deepEqual(Array.from(await readTensor(gpu, v)), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(await readTensor(gpu, out)), [11, 22, 33, 44, 55, 66]);
  assert.throws(() => base.view([8], 4 * align + 1), GpuValidationError);
  base.destroy();
  other.destroy();
  outArena.destroy();
});

gpuTest("memory accounting: allocations count, views own nothing, peak resets", async (gpu) => {
  gpu.memory.resetPeak();
  const before = gpu.memory.current;
  const t = await createTensor(gpu, [1000]);
  assert.equal(gpu.memory.current - before, 4000);
  t.view([10], 0).destroy();
  assert.equal(gpu.memory.current - before, 4000, "destroying a view frees nothing");
  t.destroy();
  t.destroy();
  assert.equal(gpu.memory.current, before, "double destroy frees once");
  assert.equal(gpu.memory.peak - before, 4000);
  gpu.memory.resetPeak();
  assert.equal(gpu.memory.peak, before);
});

gpuTest("kernels: forced software or hardware variants, and ADDROP_KERNELS checked by name", async () => {
  for (const kernels of ["software", "hardware"] as const) {
    await withGpu({ kernels }, (g) => {
      assert.equal(g.kernels, kernels);
      assert.equal(g.isSoftware, kernels === "software");
      return Promise.resolve();
    });
  }
  const saved = Deno.env.get("ADDROP_KERNELS");
  try {
    Deno.env.set("ADDROP_KERNELS", "hardware");
    await withGpu({}, (g) => Promise.resolve(assert.equal(g.isSoftware, false)));
    await withGpu({ kernels: "software" }, (g) => Promise.resolve(assert.equal(g.isSoftware, true)));
    Deno.env.set("ADDROP_KERNELS", "gpu");
    await assert.rejects(
      withGpu({}, () => Promise.resolve()),
      /ADDROP_KERNELS: expected "software" or "hardware", got "gpu"/,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("ADDROP_KERNELS");
    else Deno.env.set("ADDROP_KERNELS", saved);
  }
});
