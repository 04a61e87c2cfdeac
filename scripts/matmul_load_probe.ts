// Diagnostic (issue 3, not a benchmark; results are wrong on purpose): matmul_nt.wgsl at 1024 x 768 x 768 with
// its operands read from storage buffers, as shipped, and from 64 KiB uniform buffers (indices wrapped), to
// measure what the storage-load path costs. Usage: deno run -A scripts/matmul_load_probe.ts
// Compare matmul_nt as is vs with the A operand read from a uniform buffer (wrong results, timing only).
const adapter = await navigator.gpu.requestAdapter();
const device = await adapter!.requestDevice({
  requiredLimits: { maxStorageBufferBindingSize: adapter!.limits.maxStorageBufferBindingSize },
});
const src = Deno.readTextFileSync(new URL("../shaders/matmul_nt.wgsl", import.meta.url));
const I = 1024, J = 768, P = 768;
const variants: Record<string, string> = {
  storage: src,
  a_uniform: src.replace(
    "@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;",
    "@group(0) @binding(1) var<uniform> a: array<vec4<f32>, 4096>;",
  )
    .replace(/a\[(r\d\.[xyzw]) \+ k\]/g, "a[($1 + k) & 4095u]"),
  b_uniform: src.replace(
    "@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;",
    "@group(0) @binding(2) var<uniform> b: array<vec4<f32>, 4096>;",
  )
    .replace(/b\[(s\d\.[xyzw]) \+ k\]/g, "b[($1 + k) & 4095u]"),
};
variants.both_uniform = variants.a_uniform.replace(
  "@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;",
  "@group(0) @binding(2) var<uniform> b: array<vec4<f32>, 4096>;",
)
  .replace(/b\[(s\d\.[xyzw]) \+ k\]/g, "b[($1 + k) & 4095u]");
const mk = (size: number, usage: number) => device.createBuffer({ size, usage });
const out = mk(I * J * 4, GPUBufferUsage.STORAGE);
const aS = mk(I * P * 4, GPUBufferUsage.STORAGE), bS = mk(J * P * 4, GPUBufferUsage.STORAGE);
const aU = mk(65536, GPUBufferUsage.UNIFORM), bU = mk(65536, GPUBufferUsage.UNIFORM);
const bias = mk(J * 4, GPUBufferUsage.STORAGE);
const params = mk(32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
const pv = new ArrayBuffer(32);
const u = new Uint32Array(pv);
const f = new Float32Array(pv);
u[0] = I;
u[1] = J;
u[2] = P;
u[3] = 0;
u[4] = 0;
u[5] = 0;
f[6] = 1;
u[7] = 0;
device.queue.writeBuffer(params, 0, pv);
for (const [name, code] of Object.entries(variants)) {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  for (const m of info.messages) if (m.type === "error") console.log(name, m.message);
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module, entryPoint: "main", constants: { WG: 8 } },
  });
  const bg = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: out } },
      { binding: 1, resource: { buffer: name.startsWith("a_") || name.startsWith("both") ? aU : aS } },
      { binding: 2, resource: { buffer: name.startsWith("b_") || name.startsWith("both") ? bU : bS } },
      { binding: 3, resource: { buffer: bias } },
      { binding: 4, resource: { buffer: params } },
    ],
  });
  const REP = 4;
  const run = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    for (let r = 0; r < REP; r++) pass.dispatchWorkgroups(J / 16 / 8, I / 32, 1);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const ts = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await run();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  const ms = (ts[2] - 11) / REP;
  console.log(name.padEnd(14), ms.toFixed(1), "ms", (2 * I * J * P / ms / 1e6).toFixed(1), "GFLOP/s");
}
