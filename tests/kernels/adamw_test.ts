import assert from "node:assert/strict";
import * as gpu from "../../src/kernels/adamw.ts";
import * as ref from "../../src/reference/adamw.ts";
import type { Gpu } from "../../src/gpu/device.ts";
import { runDispatches } from "../../src/gpu/encoder.ts";
import { readFloats } from "../../src/gpu/readback.ts";
import { createTensor, type Tensor, writeTensor } from "../../src/gpu/tensor.ts";
import { assertClose } from "../_util/assert_close.ts";
import { gpuTest, withGpu } from "../_util/gpu.ts";
import { Rng } from "../_util/rng.ts";

const HYPER = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
const STEPS = 7;

interface Case {
  n: number;
  decay: boolean;
  clipCoef: number;
  /** Place param, m and v as views at this element offset of arenas (aligned), else whole tensors. */
  viewAt?: number;
}

/** Runs STEPS prepared AdamW steps (new gradients and hyper each step) on the GPU and on the f64 reference. */
async function check(g: Gpu, c: Case): Promise<{ dispatches: number; param: Float32Array }> {
  const rng = new Rng(c.n + (c.decay ? 1 : 0));
  const p0 = rng.floats(c.n);
  const state = { param: Float64Array.from(p0), m: new Float64Array(c.n), v: new Float64Array(c.n) };
  const own: Tensor[] = [];
  const make = async (data?: Float32Array) => {
    if (c.viewAt === undefined) {
      const t = await createTensor(g, [c.n], "f32", { data });
      own.push(t);
      return t;
    }
    const arena = await createTensor(g, [c.viewAt + c.n + 5]);
    own.push(arena);
    const t = arena.view([c.n], c.viewAt);
    if (data) writeTensor(g, t, data);
    return t;
  };
  const param = await make(p0);
  const m = await make();
  const v = await make();
  const grad = await createTensor(g, [c.n]);
  const hyper = await createTensor(g, [gpu.ADAMW_HYPER_SIZE]);
  const clip = await createTensor(g, [1], "f32", { data: [c.clipCoef] });
  own.push(grad, hyper, clip);
  const step = await gpu.adamwUpdate(g, { param, m, v, grad, hyper, clip }, { weightDecay: c.decay });
  for (let t = 1; t <= STEPS; t++) {
    const gr = rng.floats(c.n, -2, 2);
    writeTensor(g, grad, gr);
    writeTensor(g, hyper, gpu.adamwHyper({ ...HYPER, step: t }));
    await runDispatches(g, step);
    ref.adamwUpdate({ ...state, grad: gr }, { ...HYPER, step: t, decay: c.decay, clipCoef: c.clipCoef });
  }
  const got = await readFloats(g, param);
  const name = `n=${c.n} decay=${c.decay} clip=${c.clipCoef}`;
  assertClose(got, state.param, { atol: 2e-6, rtol: 2e-6, name: `param ${name}` });
  assertClose(await readFloats(g, m), state.m, { atol: 1e-6, rtol: 1e-5, name: `m ${name}` });
  assertClose(await readFloats(g, v), state.v, { atol: 1e-7, rtol: 1e-5, name: `v ${name}` });
  for (const t of own) t.destroy();
  return { dispatches: step.length, param: got };
}

// One vec4 workgroup covers 1024 floats: boundaries 1023, 1024, 1025; an odd shape; a BERT-base weight.
for (const n of [45 * 65, 1023, 1024, 1025, 3, 768 * 768]) {
  for (const decay of [false, true]) {
    gpuTest(`adamw ${STEPS} steps vs torch formulas (f64), N = ${n}, decay ${decay}`, async (g) => {
      await check(g, { n, decay, clipCoef: 1 });
    });
  }
}

gpuTest("adamw with a clipping coefficient, tensors as aligned views of arenas", async (g) => {
  await check(g, { n: 4099, decay: true, clipCoef: 0.37, viewAt: 128 });
});

gpuTest("adamw is bit-identical run to run", async (g) => {
  const a = await check(g, { n: 2053, decay: true, clipCoef: 0.5 });
  const b = await check(g, { n: 2053, decay: true, clipCoef: 0.5 });
  assert.deepEqual(a.param, b.param);
});

gpuTest("adamw splits tensors above the binding limit into >= 3 aligned ranges plus a tail", async () => {
  await withGpu({ maxBindingBytes: 1024 }, async (small) => {
    const { dispatches } = await check(small, { n: 1003, decay: true, clipCoef: 0.8 });
    assert.equal(dispatches, 5); // 4 ranges of <= 256 floats + the 3-element tail
    const viewed = await check(small, { n: 777, decay: false, clipCoef: 1, viewAt: 64 });
    assert.equal(viewed.dispatches, 5);
  });
});

Deno.test("adamwHyper packs torch's derived scalars in double precision", () => {
  const h = gpu.adamwHyper({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 });
  const f = Math.fround;
  assert.deepEqual(
    [...h],
    [0.9, 1 - 0.9, 0.999, 1 - 0.999, 1e-8, 1 - 1e-3 * 0.01, 1e-3 / (1 - 0.9 ** 3), Math.sqrt(1 - 0.999 ** 3)]
      .map(f),
  );
  assert.throws(
    () => gpu.adamwHyper({ lr: 1, beta1: 0.9, beta2: 0.999, eps: 0, weightDecay: 0, step: 0 }),
    /step/,
  );
});
