/**
 * A whole training step with AD-DROP (two layers masked) and attention dropout on a tiny BERT whose (B, NH, T, T)
 * tensors exceed a forced-low binding limit: the attention kernels split over examples and the step gives
 * bit-identical losses and parameters to the unsplit run.
 */
import assert from "node:assert/strict";
import type { Gpu } from "../../src/gpu/device.ts";
import { type EncodedBatch, Encoder } from "../../src/model/encoder.ts";
import { loadModel, readParams } from "../../src/model/model.ts";
import { AdDrop } from "../../src/pipeline/addrop.ts";
import { Optimizer } from "../../src/pipeline/optimizer.ts";
import { ProgramCache, TrainStep } from "../../src/pipeline/train_step.ts";
import { type BindingWatch, watchBindings } from "../_util/bindings.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

const MODEL = new URL("../fixtures/bert_seq_cls", import.meta.url).pathname;
const [B, T] = [4, 40];

function batch(i: number): EncodedBatch {
  const rng = new Rng(100 + i);
  const lens = [T, 33, 12, T - i];
  const inputIds = new Int32Array(B * T);
  const attentionMask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lens[b]; t++) {
      inputIds[b * T + t] = 1 + rng.int(96);
      attentionMask[b * T + t] = 1;
    }
  }
  const labels = Int32Array.from({ length: B }, () => rng.int(3));
  return { B, T, inputIds, attentionMask, tokenTypeIds: new Int32Array(B * T), labels };
}

async function train(gpu: Gpu, attribution: "grad" | "ig") {
  const model = await loadModel(gpu, MODEL);
  const enc = await Encoder.create(gpu, model.cfg, model.store, {
    maxBatch: B,
    maxLength: T,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    classifierDropout: 0.1,
  });
  const programs = new ProgramCache(enc);
  const optimizer = await Optimizer.create(gpu, model.store, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.01,
    maxGradNorm: 1,
  });
  const stepper = new TrainStep(enc, programs, optimizer, 1, 5);
  const addrop = await AdDrop.create(enc, programs, {
    attribution,
    p: 0.3,
    q: 0.5,
    layers: [0, 1],
    selection: "high",
    igSteps: 3,
    seed: 5,
  });
  const losses: number[] = [];
  for (let i = 0; i < 2; i++) {
    const program = await addrop.prepare(batch(i), i);
    const stats = await stepper.run(batch(i), i, { program, optimizerStep: i + 1, lr: 1e-3 });
    losses.push(stats!.loss, stats!.gradNorm);
  }
  return { losses, params: await readParams(gpu, model.store, model.specs) };
}

/** Bind groups of the attention forward row kernel (one per prepared dispatch). */
const rowPasses = (w: BindingWatch) =>
  [...w.count].filter(([k]) => k.startsWith("attention_probs_forward")).reduce((s, [, n]) => s + n, 0);

for (const attribution of ["grad", "ig"] as const) {
  gpuTest(
    `training steps (${attribution} attribution) with attention split over examples equal the unsplit steps`,
    async (shared) => {
      const wholeWatch = watchBindings(shared);
      const whole = await train(shared, attribution);
      const limit = 64 * 1024;
      assert.ok(B * 4 * T * T * 4 > limit, "probs exceed the forced limit");
      const split = await withGpu({ maxBindingBytes: limit }, async (small) => {
        const watch = watchBindings(small);
        const r = await train(small, attribution);
        assert.ok(watch.max <= small.maxBindingBytes, `'${watch.label}' bound ${watch.max} bytes > ${limit}`);
        // B = 4 examples of 25600-byte probs: two chunks of two.
        assert.ok(rowPasses(wholeWatch) > 0);
        assert.equal(rowPasses(watch), 2 * rowPasses(wholeWatch), "attention forward split in two");
        return r;
      });
      assert.deepEqual(split.losses, whole.losses);
      for (const [i, p] of whole.params.entries()) assert.deepEqual(split.params[i], p, `parameter ${i}`);
    },
  );
}
