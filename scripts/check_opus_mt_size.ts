/**
 * Run by hand (not in CI: about 80 s and 5 GB on llvmpipe): three AdamW steps of a Marian with OPUS-MT's base
 * shape (d_model 512, 6 + 6 layers, 8 heads, FFN 2048, 58,101 words; random weights) at the paper's batch of
 * 16 x 128 (or the batch given), printing each step's loss and time and the peak of tensors and scratch
 * textures. Its logits (476 MB at 16 x 128) exceed llvmpipe's 128 MiB binding limit. With `--addrop`, each
 * step is an AD-DROP step (gradient attribution over all six encoder layers, p = 0.2, q = 0.2: the clean pass,
 * the attribution backward, the masks, then the masked step).
 *
 *   deno run -A scripts/check_opus_mt_size.ts [batch] [--addrop]
 *
 * @module
 */
import { requestGpu } from "../src/gpu/device.ts";
import { CommandBatch } from "../src/gpu/encoder.ts";
import { readFloats } from "../src/gpu/readback.ts";
import { MarianModel, randomMarian } from "../src/model/marian.ts";
import { adDropOptions } from "../src/pipeline/addrop.ts";
import { AdDropSeq2Seq } from "../src/pipeline/addrop_seq2seq.ts";
import { adamwSettings, Optimizer } from "../src/pipeline/optimizer.ts";

const gpu = await requestGpu();
const args = Deno.args.filter((a) => a !== "--addrop");
const withAdDrop = Deno.args.includes("--addrop");
const V = 58101, PAD = V - 1, B = Number(args[0] ?? 16), T = 128;
const loaded = await randomMarian(gpu, {
  vocab_size: V,
  d_model: 512,
  encoder_layers: 6,
  decoder_layers: 6,
  encoder_attention_heads: 8,
  decoder_attention_heads: 8,
  encoder_ffn_dim: 2048,
  decoder_ffn_dim: 2048,
  max_position_embeddings: 512,
});
const m = await MarianModel.create(gpu, loaded, { maxBatch: B, maxLength: T });
const opt = await Optimizer.create(
  gpu,
  loaded.store,
  adamwSettings({ adamEpsilon: 1e-8, weightDecay: 0.01, maxGradNorm: 1 }),
);
const id = (b: number, t: number) => 1 + ((b * 131 + t * 17) % (V - 2));
const grid = (f: (b: number, t: number) => number) =>
  Array.from({ length: B * T }, (_, k) => f(Math.floor(k / T), k % T));
const batch = {
  B,
  T,
  inputIds: grid(id),
  attentionMask: grid(() => 1),
  decoderInputIds: grid((b, t) => t === 0 ? PAD : id(b + 7, t - 1)),
  labels: grid((b, t) => id(b + 7, t)),
};
const plain = await m.program(B, T, "train");
const addrop = withAdDrop
  ? await AdDropSeq2Seq.create(m, adDropOptions({ p: 0.2, layers: "all", seed: 1 }))
  : null;
console.log(
  `${gpu.description.name}${addrop ? ", AD-DROP steps" : ""}; logits ${
    B * T * V * 4
  } bytes, binding limit ${gpu.maxBindingBytes}; ` +
    `ln V = ${Math.log(V).toFixed(4)}`,
);
for (let i = 0; i < 3; i++) {
  m.writeBatch(batch);
  m.setStep(1, i);
  opt.setStep(i + 1, 1e-4);
  const t0 = performance.now();
  const prog = addrop ? (await addrop.prepare(batch, i)).program : plain;
  new CommandBatch(gpu, "step")
    .run(...prog.encoderForward, ...prog.decoderForward, ...prog.loss, ...prog.backward, ...opt.step)
    .zero(loaded.store.grads)
    .submit();
  const loss = (await readFloats(gpu, prog.lossValue))[0];
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  const note = i === 0 ? " (with the compiles)" : "";
  const peak = gpu.memory.peak / 2 ** 20 | 0;
  console.log(`step ${i}: loss ${loss.toFixed(4)}, ${s} s${note}, peak ${peak} MiB`);
}
