/**
 * Memory-bound kernels at BERT-base sizes, in GB/s of the bytes each kernel must move (every input read once,
 * every output written once): LayerNorm (1024 rows of 768), GELU (1024 x 3072), fused softmax cross-entropy
 * (1024 rows of 8192 classes). Each note gives the ratio to the copy bandwidth measured interleaved with the
 * case (target: at least 0.5); see `bandwidthVsCopy` in `_util.ts`.
 *
 * @module
 */
import type { Gpu } from "../src/gpu/device.ts";
import type { Dispatch } from "../src/gpu/encoder.ts";
import type { Tensor } from "../src/gpu/tensor.ts";
import { activationBackward, activationForward } from "../src/kernels/activation.ts";
import { crossEntropyForward } from "../src/kernels/loss.ts";
import { layernormBackward, layernormForward, layernormScratchShape } from "../src/kernels/layernorm.ts";
import { bandwidthVsCopy, type BenchCase, type BenchResult, benchTensor } from "./_util.ts";

/** Times the dispatches against the copy kernel (interleaved) and frees the tensors. */
async function bandwidth(
  gpu: Gpu,
  name: string,
  bytes: number,
  dispatches: Dispatch[],
  shape: string,
  tensors: Tensor[],
): Promise<BenchResult> {
  try {
    return await bandwidthVsCopy(gpu, name, bytes, dispatches, shape);
  } finally {
    for (const x of tensors) x.destroy();
  }
}

const ROWS = 1024, C = 768;

export const benchmarks: BenchCase[] = [
  {
    name: "layernorm_forward",
    async run(gpu) {
      const f = (shape: number[]) => benchTensor(gpu, shape);
      const [out, mean, rstd, inp, weight, bias] = [
        await f([ROWS, C]),
        await f([ROWS]),
        await f([ROWS]),
        await f([ROWS, C]),
        await f([C]),
        await f([C]),
      ];
      const d = await layernormForward(gpu, { out, mean, rstd, inp, weight, bias }, {
        rows: ROWS,
        C,
        eps: 1e-12,
      });
      const bytes = 4 * (2 * ROWS * C + 2 * C + 2 * ROWS);
      return [
        await bandwidth(gpu, "layernorm_forward", bytes, [d], `${ROWS}x${C}`, [
          out,
          mean,
          rstd,
          inp,
          weight,
          bias,
        ]),
      ];
    },
  },
  {
    name: "layernorm_backward",
    async run(gpu) {
      const f = (shape: number[]) => benchTensor(gpu, shape);
      const scratchShape = layernormScratchShape({ rows: ROWS, C });
      const t = {
        dinp: await f([ROWS, C]),
        dweight: await f([C]),
        dbias: await f([C]),
        scratch: await f(scratchShape),
        dout: await f([ROWS, C]),
        inp: await f([ROWS, C]),
        weight: await f([C]),
        mean: await f([ROWS]),
        rstd: await f([ROWS]),
      };
      const ds = await layernormBackward(gpu, t, { rows: ROWS, C });
      // dout, inp read and dinp written; mean, rstd, weight read; dweight, dbias read and written. The scratch
      // partial sums are the kernel's own business: not counted.
      const bytes = 4 * (3 * ROWS * C + 2 * ROWS + 5 * C);
      return [
        await bandwidth(gpu, "layernorm_backward", bytes, ds, `${ROWS}x${C}, 2 passes`, Object.values(t)),
      ];
    },
  },
  ...(["forward", "backward"] as const).map((pass): BenchCase => ({
    name: `gelu_${pass}`,
    async run(gpu) {
      const n = ROWS * 4 * C;
      const [a, b, c] = [
        await benchTensor(gpu, [n]),
        await benchTensor(gpu, [n]),
        await benchTensor(gpu, [n]),
      ];
      const d = pass === "forward"
        ? await activationForward(gpu, { out: a, inp: b }, { kind: "gelu" })
        : await activationBackward(gpu, { dinp: a, dout: b, inp: c }, { kind: "gelu" });
      const bytes = 4 * n * (pass === "forward" ? 2 : 3);
      return [await bandwidth(gpu, `gelu_${pass}`, bytes, [d], `${ROWS}x${4 * C} exact GELU`, [a, b, c])];
    },
  })),
  crossEntropyCase("cross_entropy", 8192),
  // An OPUS-MT-like vocabulary (58,101 to 65,001 words): rows not aligned to vec4s.
  crossEntropyCase("cross_entropy_v8191", 8191),
];

/** The fused cross-entropy (loss + dlogits) over 1024 rows of V logits, in GB/s against the copy kernel. */
function crossEntropyCase(name: string, V: number): BenchCase {
  return {
    name,
    async run(gpu) {
      const N = 1024;
      const logits = await benchTensor(gpu, [N, V]);
      const dlogits = await benchTensor(gpu, [N, V]);
      const targets = await benchTensor(gpu, [N], "i32", {
        data: Int32Array.from({ length: N }, (_, i) => i % V),
      });
      const loss = await benchTensor(gpu, [1]);
      const losses = await benchTensor(gpu, [N]);
      const ds = await crossEntropyForward(gpu, { loss, losses, dlogits, logits, targets }, { N, V });
      // Logits read once and dlogits written once (the kernel reads each row twice; the second read hits cache).
      const bytes = 4 * (2 * N * V + 3 * N);
      return [
        await bandwidth(gpu, name, bytes, ds, `${N}x${V}, loss + dlogits`, [
          logits,
          dlogits,
          targets,
          loss,
          losses,
        ]),
      ];
    },
  };
}
