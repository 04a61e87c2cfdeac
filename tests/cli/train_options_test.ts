import assert from "node:assert/strict";
import { flagName, loadTrainOptions, OptionsError, parseTrainOptions } from "../../src/cli/train_options.ts";

Deno.test("defaults follow the CLI contract (AD-DROP on, grad, p 0.3, q 0.2, layer 0, cross-tuning)", () => {
  const o = parseTrainOptions({});
  assert.equal(o.adDrop, true);
  assert.equal(o.attribution, "grad");
  assert.equal(o.p, 0.3);
  assert.equal(o.q, 0.2);
  assert.deepEqual(o.layers, [0]);
  assert.equal(o.crossTuning, true);
  assert.equal(o.igSteps, 20);
  assert.equal(o.selection, "high");
  assert.equal(o.maxGradNorm, 1);
  assert.equal(o.adamEpsilon, 1e-8);
  assert.equal(o.weightDecay, 0.01);
  assert.equal(o.maxSteps, -1);
});

Deno.test("strings from the command line are coerced; layers parse", () => {
  const o = parseTrainOptions({ learningRate: "3e-5", batchSize: "8", layers: "0,3", shuffle: "false" });
  assert.equal(o.learningRate, 3e-5);
  assert.equal(o.batchSize, 8);
  assert.deepEqual(o.layers, [0, 3]);
  assert.equal(o.shuffle, false);
  assert.equal(parseTrainOptions({ layers: "all" }).layers, "all");
});

Deno.test("every bad value and unknown key is listed in one error naming flag and value", () => {
  try {
    parseTrainOptions(
      { p: "1.5", q: -0.1, batchSize: "0", attribution: "shap", layers: "0,x", bogus: 1 },
      "cfg.json",
    );
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof OptionsError);
    assert.equal(e.problems.length, 6, e.message);
    assert.match(e.message, /cfg\.json/);
    assert.match(e.message, /--p \(p\): must be in \[0, 1\]; got "1\.5"/);
    assert.match(e.message, /--q \(q\)/);
    assert.match(e.message, /--batch-size/);
    assert.match(e.message, /--attribution.*"shap"/);
    assert.match(e.message, /--layers/);
    assert.match(e.message, /unknown option 'bogus'/);
  }
});

Deno.test("config file values sit under command-line flags; kebab-case keys accepted", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/c.json`;
  await Deno.writeTextFile(path, JSON.stringify({ "learning-rate": 1e-4, batchSize: 4, p: 0.5 }));
  const o = await loadTrainOptions({ batchSize: "2" }, path);
  assert.equal(o.learningRate, 1e-4);
  assert.equal(o.batchSize, 2);
  assert.equal(o.p, 0.5);
  await Deno.writeTextFile(path, "[1, 2]");
  await assert.rejects(() => loadTrainOptions({}, path), OptionsError);
  await Deno.writeTextFile(path, "{ not json");
  await assert.rejects(() => loadTrainOptions({}, path), /not valid JSON/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("flag names", () => {
  assert.equal(flagName("gradientAccumulationSteps"), "--gradient-accumulation-steps");
  assert.equal(flagName("p"), "--p");
});
