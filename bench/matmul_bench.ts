/**
 * Matmul throughput at a BERT-base-like size (M = 1024 rows, K = N = 768), fp32, on the adapter's default
 * variant: the forward and the two halves of the backward, each timed alone (dinp includes its transpose of
 * the weight; dweight accumulates).
 *
 * @module
 */
import type { Gpu } from "../src/gpu/device.ts";
import type { Dispatch } from "../src/gpu/encoder.ts";
import type { Tensor } from "../src/gpu/tensor.ts";
import type { Timing } from "../src/gpu/timing.ts";
import { matmulBackward, matmulForward, type MatmulVariant } from "../src/kernels/matmul.ts";
import { type BenchCase, type BenchResult, benchTensor, rate, timeRepeated } from "./_util.ts";

const M = 1024, K = 768, N = 768;
const GFLOP = (2 * M * K * N) / 1e9;
/**
 * Products per timed submit: 20 take about 0.4 s here, as the attention's 8 forward + backward runs do, so the
 * 0-10 ms by which Deno's polled completion overshoots the end of a submit weighs the same on both sides of the
 * attention's ratio (with 8 products, a 0.17 s submit, a mean overshoot of 5 ms is about 3% of it: arithmetic, not measured).
 */
const REPS = 20;

/** Times `ds` by wall clock over REPS products per submit (see timeRepeated). */
function timeProducts(gpu: Gpu, ds: Dispatch[], o: { warmup: number; repeats: number }): Promise<Timing> {
  return timeRepeated(gpu, ds, REPS, o);
}

async function timed(
  gpu: Gpu,
  name: string,
  note: string,
  tensors: Tensor[],
  ds: Dispatch[],
): Promise<BenchResult> {
  const t = await timeProducts(gpu, ds, { warmup: 2, repeats: 10 });
  for (const x of tensors) x.destroy();
  return rate(name, "GFLOP/s", REPS * GFLOP, t, `${note}; ${REPS} per submit`);
}

/**
 * A forward product with its tensors (the adapter's default tiling unless `variant`): 1024 x 768 x 768 with a
 * bias unless `shape` says otherwise.
 */
async function forwardProduct(
  gpu: Gpu,
  variant?: MatmulVariant,
  shape = { M, K, N, bias: true },
): Promise<{ tensors: Tensor[]; ds: Dispatch[] }> {
  const inp = await benchTensor(gpu, [shape.M, shape.K]);
  const weight = await benchTensor(gpu, [shape.N, shape.K]);
  const bias = shape.bias ? await benchTensor(gpu, [shape.N]) : null;
  const out = await benchTensor(gpu, [shape.M, shape.N]);
  const ds = await matmulForward(gpu, { out, inp, weight, bias }, { ...shape, variant });
  return { tensors: [inp, weight, out, ...bias ? [bias] : []], ds };
}

/**
 * `matmul_1024x768x768` as a yardstick timed between another case's samples (the host's speed drifts): one
 * sample per call, in GFLOP/s. `destroy` frees its tensors.
 */
export async function matmulYardstick(gpu: Gpu): Promise<{ sample(): Promise<number>; destroy(): void }> {
  const { tensors, ds } = await forwardProduct(gpu);
  return {
    sample: async () =>
      REPS * GFLOP / ((await timeProducts(gpu, ds, { warmup: 0, repeats: 1 })).median / 1000),
    destroy: () => tensors.forEach((x) => x.destroy()),
  };
}

/** The forward product `out = inp @ W^T + b` with the given tiling (default: the adapter's). */
function forwardCase(name: string, variant?: MatmulVariant): BenchCase {
  return {
    name,
    async run(gpu) {
      const { tensors, ds } = await forwardProduct(gpu, variant);
      const note = variant
        ? `out = inp @ W^T + b, variant ${variant}`
        : "out = inp @ W^T + b (incl. packing both operands on software adapters)";
      return [await timed(gpu, name, note, tensors, ds)];
    },
  };
}

/**
 * An LM head whose vocabulary is not a multiple of 4 (OPUS-MT's are 58,101 to 65,001; d_model 512): M = 1024,
 * K = 512, N = 8191, no bias, on the adapter's default variant (software adapters: the packed kernel with
 * scalar stores of c, `scalarC` in src/kernels/matmul_packed.ts, 2 products per submit). On software adapters also
 * `_tiled`: the tiled kernel such a product fell back to before (one product per submit, 3 samples).
 */
async function lmHead(gpu: Gpu, variant?: MatmulVariant): Promise<BenchResult> {
  const [m, k, n] = [1024, 512, 8191];
  const { tensors, ds } = await forwardProduct(gpu, variant, { M: m, K: k, N: n, bias: false });
  const reps = variant ? 1 : 2;
  const t = await timeRepeated(gpu, ds, reps, { warmup: 1, repeats: variant ? 3 : 5 });
  for (const x of tensors) x.destroy();
  const name = `matmul_1024x512x8191${variant ? "_tiled" : ""}`;
  const kernel = ds[ds.length - 1].kernel.source.file;
  return rate(name, "GFLOP/s", (reps * 2 * m * k * n) / 1e9, t, `${kernel}; ${reps} per submit`);
}

export const benchmarks: BenchCase[] = [
  forwardCase("matmul_1024x768x768"),
  {
    name: "matmul_1024x512x8191",
    run: async (gpu) => [await lmHead(gpu), ...gpu.isSoftware ? [await lmHead(gpu, "gpu")] : []],
  },
  // The storage-buffer kernel (matmul_nt.wgsl) on software adapters, for comparison in the same run.
  {
    name: "matmul_1024x768x768_storage",
    run: (gpu) => forwardCase("matmul_1024x768x768_storage", gpu.isSoftware ? "cpu-storage" : "gpu").run(gpu),
  },
  {
    name: "matmul_backward_dinp_1024x768x768",
    async run(gpu) {
      const dout = await benchTensor(gpu, [M, N]);
      const inp = await benchTensor(gpu, [M, K]);
      const weight = await benchTensor(gpu, [N, K]);
      const dinp = await benchTensor(gpu, [M, K]);
      const t = { dinp, dweight: null, dbias: null, dout, inp, weight };
      const ds = await matmulBackward(gpu, t, { M, K, N });
      const name = "matmul_backward_dinp_1024x768x768";
      return [
        await timed(
          gpu,
          name,
          "dinp = dout @ W (incl. packing / transposing W)",
          [dout, inp, weight, dinp],
          ds,
        ),
      ];
    },
  },
  {
    name: "matmul_backward_dweight_1024x768x768",
    async run(gpu) {
      const dout = await benchTensor(gpu, [M, N]);
      const inp = await benchTensor(gpu, [M, K]);
      const weight = await benchTensor(gpu, [N, K]);
      const dweight = await benchTensor(gpu, [N, K]);
      const t = { dinp: null, dweight, dbias: null, dout, inp, weight };
      const ds = await matmulBackward(gpu, t, { M, K, N });
      const name = "matmul_backward_dweight_1024x768x768";
      return [await timed(gpu, name, "dweight += dout^T @ inp", [dout, inp, weight, dweight], ds)];
    },
  },
];
