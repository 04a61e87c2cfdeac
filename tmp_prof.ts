import { requestGpu } from "./src/gpu/device.ts";
import { createTensor } from "./src/gpu/tensor.ts";
import { timeGpu } from "./src/gpu/timing.ts";
import { attentionBackward, attentionForward } from "./src/kernels/attention.ts";
const gpu = await requestGpu();
const d = { B: 8, T: 128, C: 768, NH: 12, pDrop: 0.1, layer: 0, ...JSON.parse(Deno.args[0] ?? "{}") };
const { B, T, C, NH } = d;
const mk = (s: number[], t: "f32" | "u32" = "f32") => createTensor(gpu, s, t);
const [qkv, dqkv, out, dout, probs, dprobs, fs, sc, km, rng] = await Promise.all([
  mk([B, T, 3 * C]), mk([B, T, 3 * C]), mk([B, T, C]), mk([B, T, C]), mk([B, NH, T, T]), mk([B, NH, T, T]), mk([B, NH, T, T]), mk([2, B, NH, T, T]), mk([B, T]), mk([2], "u32")]);
const c = { qkv, probs, keyMask: km, addMask: null, alpha: null, rng };
const ds = [...await attentionForward(gpu, { ...c, out, scratch: fs }, d), ...await attentionBackward(gpu, { ...c, dqkv, dprobs, dout, scratch: sc }, d)];
const names = ["S", "fwdrow", "PV", "dP", "bwdrow", "dV", "dQ", "dK"];
let tot = 0;
for (let i = 0; i < ds.length; i++) {
  const t = await timeGpu(gpu, (b) => void b.run(ds[i]), { warmup: 1, repeats: 3 });
  tot += t.median;
  console.log(names[i], t.median.toFixed(1), "ms");
}
console.log("sum", tot.toFixed(1), "GFLOP/s", (12 * B * NH * T * T * 64 / 1e9 / (tot / 1000)).toFixed(2));
