/**
 * What a vec4 load costs one invocation, by where it comes from (storage buffer at a per-invocation or a
 * shared address, uniform buffer, workgroup memory, texture), beside the loop's own cost: the figures that
 * decide kernel design on a software adapter, where every storage load is a per-lane loop (see the README's
 * performance notes). Each case runs the same dispatch with 8192 and with 16 loads per invocation and reports the difference
 * per load, so the fixed cost of a submit (~11 ms in Deno here) cancels.
 *
 * @module
 */
import code from "../shaders/bench_load_paths.wgsl" with { type: "text" };
import type { Gpu } from "../src/gpu/device.ts";
import { timeWall } from "../src/gpu/timing.ts";
import type { BenchCase, BenchResult } from "./_util.ts";

const WGS = 64;
const INVOCATIONS = 64 * WGS;
const L = 8192;
const L0 = 16;
const MODES = [
  ["load_storage_divergent", 0],
  ["load_storage_uniform", 1],
  ["load_uniform_buffer", 2],
  ["load_workgroup", 3],
  ["load_none_fma", 4],
  ["load_texture", 5],
] as const;

async function measure(gpu: Gpu, name: string, mode: number): Promise<BenchResult> {
  const dev = gpu.device;
  const out = dev.createBuffer({ size: INVOCATIONS * 16, usage: GPUBufferUsage.STORAGE });
  const s = dev.createBuffer({ size: 16384 * 16, usage: GPUBufferUsage.STORAGE });
  const u = dev.createBuffer({ size: 4096 * 16, usage: GPUBufferUsage.UNIFORM });
  const tex = dev.createTexture({
    size: [128, 128],
    format: "rgba32float",
    usage: GPUTextureUsage.TEXTURE_BINDING,
  });
  const module = dev.createShaderModule({ label: "bench_load_paths.wgsl", code });
  const time = async (loads: number) => {
    const pipeline = await dev.createComputePipelineAsync({
      layout: "auto",
      compute: { module, entryPoint: "main", constants: { MODE: mode, L: loads } },
    });
    const bindGroup = dev.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        ...[out, s, u].map((buffer, binding) => ({ binding, resource: { buffer } })),
        { binding: 3, resource: tex.createView() },
      ],
    });
    return await timeWall(async () => {
      const enc = dev.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(INVOCATIONS / WGS);
      pass.end();
      dev.queue.submit([enc.finish()]);
      await gpu.sync(name);
    }, { warmup: 1, repeats: 7 });
  };
  const t1 = await time(L0);
  const t2 = await time(L);
  [out, s, u].forEach((b) => b.destroy());
  tex.destroy();
  const per = (a: number, b: number) => Math.max(0, (b - a) * 1e6 / (INVOCATIONS * (L - L0)));
  return {
    name,
    unit: "ns/load",
    median: per(t1.median, t2.median),
    min: per(t1.max, t2.min),
    max: per(t1.min, t2.max),
    note: `wall clock, (time at ${
      2 * L
    } - time at ${L} loads) / (${INVOCATIONS} invocations x ${L}); one vec4 each`,
  };
}

export const benchmarks: BenchCase[] = MODES.map(([name, mode]) => ({
  name,
  run: async (gpu: Gpu) => [await measure(gpu, name, mode)],
}));
