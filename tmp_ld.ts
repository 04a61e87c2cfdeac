import { requestGpu } from "./src/gpu/device.ts";
import { prepareDispatch } from "./src/gpu/encoder.ts";
import { ParamPack } from "./src/gpu/params.ts";
import { createTensor } from "./src/gpu/tensor.ts";
import { timeGpu } from "./src/gpu/timing.ts";
const gpu = await requestGpu();
const code = Deno.readTextFileSync("/tmp/ldtest.wgsl");
const inp = await createTensor(gpu, [4096]);
const out = await createTensor(gpu, [64 * 64]);
const iters = 20000;
for (const ep of ["alu", "st", "wg", "alu", "st", "wg", "alu", "st", "wg"]) {
  const k = await gpu.pipelines.get({ file: "ld", code, entryPoint: ep, bindings: ["read_write", "read", "uniform"] });
  const d = prepareDispatch(gpu, k, [out, inp], new ParamPack().u32(0).u32(iters).bytes(), [64]);
  const t = await timeGpu(gpu, (b) => void b.run(d), { warmup: 1, repeats: 3 });
  const loads = 64 * 64 * iters;
  console.log(ep, t.min.toFixed(1), "ms", (t.min * 1e-3 * 2 * 3e9 / (loads / 8)).toFixed(1), "cycles per 8-lane op (3GHz, 2 cores)");
}
