/**
 * Views bind whole vec4s. Kernels read and write `array<vec4<f32>>` and guard the last partial vec4 per
 * component, so that vec4 must lie inside the binding: an NVIDIA H200 (2026-11-27) clamped or dropped accesses
 * past a view's binding, and the last elements of a 3 x 37 view were lost (attribute() then failed its golden
 * tests there), while llvmpipe read and wrote them. llvmpipe cannot show the loss, so these tests check the
 * binding ranges themselves, with the kernels and the attribution pipeline that hit it.
 */
import assert from "node:assert/strict";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor } from "../../src/gpu/tensor.ts";
import { activationForward } from "../../src/kernels/activation.ts";
import { attribute } from "../../src/pipeline/attribute_run.ts";
import { watchBindings } from "../_util/bindings.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";

gpuTest("a view of 3 x 37 elements binds whole vec4s, within its buffer", async () => {
  await withGpu({}, async (gpu) => {
    const watch = watchBindings(gpu);
    const x = Float32Array.from({ length: 64 * 37 }, (_, i) => (i % 7) - 3);
    const inp = await createTensor(gpu, [64, 37], "f32", { data: x });
    const out = await createTensor(gpu, [64, 37], "f32", { data: new Float32Array(64 * 37).fill(-1) });
    await runDispatches(gpu, [
      await activationForward(gpu, { out: out.view([3, 37]), inp: inp.view([3, 37]) }, {
        kind: "relu",
      }),
    ]);
    assert.deepEqual(watch.ragged, []);
    assert.equal(watch.max, 448, "111 floats bound as 28 vec4s");
    const got = await readFloats(gpu, out);
    assert.deepEqual(got.subarray(0, 111), x.subarray(0, 111).map((v) => Math.max(v, 0)));
    assert.ok(got.subarray(111).every((v) => v === -1), "nothing written past the view");
    // A view at an offset, at the end of its buffer (69 floats, padded to 288 bytes): 5 floats bound as 32 bytes.
    const a = await createTensor(gpu, [69], "f32", {
      data: Float32Array.from({ length: 69 }, (_, i) => i - 66),
    });
    const b = await createTensor(gpu, [69], "f32");
    await runDispatches(gpu, [
      await activationForward(gpu, { out: b.view([5], 64), inp: a.view([5], 64) }, {
        kind: "relu",
      }),
    ]);
    assert.deepEqual(Array.from((await readFloats(gpu, b)).subarray(64)), [0, 0, 0, 1, 2]);
    assert.deepEqual(watch.ragged, []);
  });
});

gpuTest(
  "attribute(): examples shorter than the encoder bind no partial vec4 (forward and backward)",
  async () => {
    await withGpu({}, async (gpu) => {
      const watch = watchBindings(gpu);
      const dir = new URL("../fixtures/", import.meta.url).pathname;
      const output = await Deno.makeTempFile({ suffix: ".json" });
      try {
        const got = await attribute({
          model: `${dir}bert_regression`,
          input: `${dir}attribution/bert_regression.jsonl`,
          layer: 0,
          method: "grad",
          output,
          gpu,
        });
        assert.deepEqual(
          got.map((e) => e.tokens.length),
          [8, 3, 14],
          "T = 8, 3, 14 in an encoder sized for 64",
        );
        assert.deepEqual(watch.ragged, []);
      } finally {
        await Deno.remove(output);
      }
    });
  },
);
