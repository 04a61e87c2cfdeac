/**
 * Copy bandwidth: the yardstick of the memory-bound kernels (they must reach at least half of it).
 *
 * @module
 */
import type { CommandBatch } from "../src/gpu/encoder.ts";
import { timeGpu } from "../src/gpu/timing.ts";
import { copyKernel } from "../src/kernels/copy.ts";
import { type BenchCase, benchTensor, rate } from "./_util.ts";

export const benchmarks: BenchCase[] = [
  {
    name: "copy_bandwidth",
    async run(gpu) {
      const n = 16 * 1024 * 1024; // 64 MiB each way
      const inp = await benchTensor(gpu, [n]);
      const out = await benchTensor(gpu, [n]);
      const d = await copyKernel(gpu, { out, inp });
      const t = await timeGpu(gpu, (b: CommandBatch) => void b.run(d), { warmup: 2, repeats: 10 });
      inp.destroy();
      out.destroy();
      return [rate("copy_bandwidth", "GB/s", (2 * n * 4) / 1e9, t, "64 MiB read + 64 MiB write")];
    },
  },
];
