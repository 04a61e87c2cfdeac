/**
 * Golden tests: the GPU encoder with its head against the PyTorch reference of scripts/make_fixtures.py (logits
 * within 1e-4, every parameter gradient within 1e-3 relative), for BERT, RoBERTa and ELECTRA.
 */
import { CommandBatch } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { Encoder } from "../../src/model/encoder.ts";
import { loadModel, readGrads } from "../../src/model/model.ts";
import { buildProgram } from "../../src/model/program.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest } from "../_util/gpu.ts";

const FIXTURES = ["bert_seq_cls", "bert_regression", "roberta_seq_cls", "electra_tok_cls"];

for (const name of FIXTURES) {
  gpuTest(`encoder matches PyTorch: ${name} (logits, loss, every gradient)`, async (gpu) => {
    const dir = new URL(`../fixtures/${name}`, import.meta.url).pathname;
    const model = await loadModel(gpu, dir);
    const expected = await openSafetensors(`${dir}/expected.safetensors`);
    const ids = await expected.get("input_ids");
    const [B, T] = expected.info("input_ids").shape;
    const enc = await Encoder.create(gpu, model.cfg, model.store, {
      maxBatch: B,
      maxLength: T,
      hiddenDropout: 0,
      attentionDropout: 0,
      classifierDropout: 0,
    });
    enc.writeBatch({
      B,
      T,
      inputIds: ids,
      attentionMask: await expected.get("attention_mask"),
      tokenTypeIds: await expected.get("token_type_ids"),
      labels: await expected.get("labels"),
    });
    enc.setStep(1, 0);
    const prog = await buildProgram(enc, B, T, { mode: "train" });
    const batch = new CommandBatch(gpu, "golden");
    batch.zero(model.store.grads);
    batch.run(...prog.forward, ...prog.loss, ...prog.backward).submit();
    await gpu.sync();
    const logits = await readFloats(gpu, prog.logits);
    assertClose(logits, await expected.get("logits"), { atol: 1e-4, rtol: 1e-4, name: `${name} logits` });
    assertClose(await readFloats(gpu, prog.lossValue), await expected.get("loss"), {
      atol: 1e-5,
      rtol: 1e-4,
      name: `${name} loss`,
    });
    const grads = await readGrads(gpu, model.store, model.specs);
    for (const [i, spec] of model.specs.entries()) {
      const parts = spec.parts ?? [spec.name];
      const want = new Float32Array(grads[i].length);
      let at = 0;
      for (const p of parts) {
        const g = await expected.get(`grad.${p}`);
        want.set(g, at);
        at += g.length;
      }
      const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      assertClose(grads[i], want, {
        atol: 1e-3 * scale + 1e-7,
        rtol: 1e-3,
        name: `${name} grad ${spec.name}`,
      });
    }
    expected.close();
    enc.destroy();
    model.store.destroy();
  });
}
