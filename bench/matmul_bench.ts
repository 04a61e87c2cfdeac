/**
 * Matmul throughput.
 *
 * @module
 */
import { createTensor } from "../src/gpu/tensor.ts";
import { timeGpu } from "../src/gpu/timing.ts";
import { matmulForward } from "../src/kernels/matmul.ts";
import { type BenchCase, rate } from "./_util.ts";

export const benchmarks: BenchCase[] = [
  {
    name: "matmul_1024x768x768",
    async run(gpu) {
      const M = 1024, K = 768, N = 768;
      const inp = await createTensor(gpu, [M, K]);
      const weight = await createTensor(gpu, [N, K]);
      const bias = await createTensor(gpu, [N]);
      const out = await createTensor(gpu, [M, N]);
      const d = await matmulForward(gpu, { out, inp, weight, bias }, { M, K, N });
      const t = await timeGpu(gpu, (b) => void b.run(d), { warmup: 2, repeats: 10 });
      for (const x of [inp, weight, bias, out]) x.destroy();
      return [rate("matmul_1024x768x768", "GFLOP/s", (2 * M * K * N) / 1e9, t, "out = inp @ W^T + b")];
    },
  },
];
