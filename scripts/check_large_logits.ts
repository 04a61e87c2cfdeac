/**
 * Run by hand (not in CI: it takes about 5 s and 1 GB on llvmpipe): one Marian training step whose logits
 * exceed the adapter's real storage binding limit (16 x 320 positions x 8,191 words = 168 MB against llvmpipe's
 * 128 MiB), so that the LM head's products and the loss run in row blocks, against the same 16 examples as two
 * batches of 8 that fit whole. Every position has a label, so the full batch's loss is the mean of the halves'
 * and the shared embedding's gradient half their sum.
 *
 *   deno run -A scripts/check_large_logits.ts
 *
 * @module
 */
import { requestGpu } from "../src/gpu/device.ts";
import { CommandBatch } from "../src/gpu/encoder.ts";
import { readFloats } from "../src/gpu/readback.ts";
import { MarianModel, randomMarian } from "../src/model/marian.ts";
import { SHARED } from "../src/model/marian_weights.ts";

const gpu = await requestGpu();
const V = 8191, PAD = V - 1, T = 320;
const loaded = await randomMarian(gpu, {
  vocab_size: V,
  d_model: 64,
  encoder_layers: 1,
  decoder_layers: 1,
  encoder_attention_heads: 2,
  decoder_attention_heads: 2,
  encoder_ffn_dim: 128,
  decoder_ffn_dim: 128,
  max_position_embeddings: 512,
  dropout: 0,
  attention_dropout: 0,
}, { std: 0.05 });
const { store } = loaded;

const id = (b: number, t: number) => 1 + ((b * 131 + t * 17) % (V - 2));
/** Examples b0 .. b0 + B - 1 of T tokens, every position labelled. */
function batch(b0: number, B: number) {
  const grid = (f: (b: number, t: number) => number) =>
    Array.from({ length: B * T }, (_, k) => f(b0 + Math.floor(k / T), k % T));
  return {
    B,
    T,
    inputIds: grid(id),
    attentionMask: grid(() => 1),
    decoderInputIds: grid((b, t) => t === 0 ? PAD : id(b + 7, t - 1)),
    labels: grid((b, t) => id(b + 7, t)),
  };
}

/** Steps over batches of B from each start in `starts`, the gradients accumulating; the losses and dshared. */
async function run(B: number, starts: number[]) {
  const m = await MarianModel.create(gpu, loaded, { maxBatch: B, maxLength: T });
  const prog = await m.program(B, T, "train");
  new CommandBatch(gpu, "zero").zero(store.grads).submit();
  const losses: number[] = [];
  for (const b0 of starts) {
    m.writeBatch(batch(b0, B));
    m.setStep(1, 0);
    new CommandBatch(gpu, "step")
      .run(...prog.encoderForward, ...prog.decoderForward, ...prog.loss, ...prog.backward)
      .submit();
    losses.push((await readFloats(gpu, prog.lossValue))[0]);
  }
  const grad = await readFloats(gpu, store.grad(SHARED));
  m.destroy();
  return { losses, grad };
}

const logitsBytes = 16 * T * V * 4;
console.log(`logits ${logitsBytes} bytes, binding limit ${gpu.maxBindingBytes} (${gpu.description.name})`);
if (logitsBytes <= gpu.maxBindingBytes) console.log("(this adapter binds them whole: nothing is split)");
const full = await run(16, [0]);
const halves = await run(8, [0, 8]);
const mean = (halves.losses[0] + halves.losses[1]) / 2;
let worst = 0, scale = 0;
for (let i = 0; i < full.grad.length; i++) {
  scale = Math.max(scale, Math.abs(full.grad[i]));
  worst = Math.max(worst, Math.abs(full.grad[i] - halves.grad[i] / 2));
}
console.log(
  `loss ${full.losses[0]}, mean of the halves ${mean}: relative difference ${
    Math.abs(full.losses[0] - mean) / mean
  }`,
);
console.log(`d shared: largest difference ${worst}, largest magnitude ${scale}`);
store.destroy();
gpu.destroy();
