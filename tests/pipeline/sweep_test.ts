/**
 * `sweep()`: a 2 x 2 (p, q) grid x 2 seeds on a tiny scratch BERT and tiny data, on one device: all three files
 * with the right shapes (8 CSV rows, 8 runs and 4 cells in the JSON, an SVG that is well-formed XML with 4
 * cells); a rerun skips the finished runs; the command-line parser.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { parseSweepArgs } from "../../src/cli/sweep_options.ts";
import { createScratchModel } from "../../src/model/scratch.ts";
import { sweep, type SweepResult } from "../../src/pipeline/sweep.ts";
import { gpuTest } from "../_util/gpu.ts";
import { wellFormed } from "../_util/xml.ts";

const WORDS = ["good", "great", "fun", "bad", "awful", "dull", "movie", "plot", "the", "was"];

async function tinyTask(dir: string): Promise<{ model: string; train: string; validation: string }> {
  const model = `${dir}/model`;
  await createScratchModel(model, {
    vocab: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...WORDS],
    hiddenSize: 16,
    numLayers: 2,
    numHeads: 2,
    intermediateSize: 32,
    maxPositions: 16,
    head: "sequence_classification",
    labels: ["neg", "pos"],
    seed: 3,
  });
  const line = (i: number) => {
    const pos = i % 2 === 0;
    const w = pos ? WORDS.slice(0, 3) : WORDS.slice(3, 6);
    return JSON.stringify({
      text: `the movie was ${w[i % 3]} ${w[(i + 1) % 3]}`,
      label: pos ? "pos" : "neg",
    });
  };
  const train = `${dir}/train.jsonl`;
  const validation = `${dir}/dev.jsonl`;
  await Deno.writeTextFile(train, Array.from({ length: 8 }, (_, i) => line(i)).join("\n") + "\n");
  await Deno.writeTextFile(validation, Array.from({ length: 4 }, (_, i) => line(i + 8)).join("\n") + "\n");
  return { model, train, validation };
}

gpuTest("sweep: 2 x 2 grid x 2 seeds on one device writes csv, json and svg", async (gpu) => {
  const dir = await Deno.makeTempDir({ prefix: "sweep_test_" });
  try {
    const task = await tinyTask(dir);
    const outputDir = `${dir}/sweep`;
    const o = {
      base: { ...task, epochs: 2, batchSize: 4, learningRate: 1e-3, maxLength: 16 },
      p: [0.3, 0.6],
      q: [0.2, 0.8],
      seeds: [1, 2],
      outputDir,
      gpu,
    };
    const r = await sweep(o);
    assertEquals(r.runs.length, 8);
    assertEquals(r.cells.length, 4);
    assertEquals(r.metric, "accuracy");
    for (const run of r.runs) {
      if (run.best === null || !(run.best >= 0 && run.best <= 1)) throw new Error(`run metric ${run.best}`);
    }
    for (const c of r.cells) assertEquals(c.n, 2);
    const csv = (await Deno.readTextFile(`${outputDir}/sweep.csv`)).trim().split("\n");
    assertEquals(csv[0], "p,q,method,layers,seed,metric,best,epoch");
    assertEquals(csv.length, 9);
    assertEquals(csv.slice(1).map((l) => l.split(",").slice(0, 5).join(",")).sort(), [
      "0.3,0.2,grad,0,1",
      "0.3,0.2,grad,0,2",
      "0.3,0.8,grad,0,1",
      "0.3,0.8,grad,0,2",
      "0.6,0.2,grad,0,1",
      "0.6,0.2,grad,0,2",
      "0.6,0.8,grad,0,1",
      "0.6,0.8,grad,0,2",
    ]);
    const json: SweepResult = JSON.parse(await Deno.readTextFile(`${outputDir}/sweep.json`));
    assertEquals(json.runs.length, 8);
    assertEquals(json.cells.map((c) => [c.p, c.q]), [[0.3, 0.2], [0.3, 0.8], [0.6, 0.2], [0.6, 0.8]]);
    const cell = json.cells[0];
    const xs = json.runs.filter((x) => x.p === cell.p && x.q === cell.q).map((x) => x.best!);
    const mean = (xs[0] + xs[1]) / 2;
    if (Math.abs(cell.mean! - mean) > 1e-12) throw new Error(`cell mean ${cell.mean}, runs ${xs}`);
    if (Math.abs(cell.std! - Math.abs(xs[0] - xs[1]) / Math.SQRT2) > 1e-12) {
      throw new Error(`std ${cell.std}`);
    }
    const svg = await Deno.readTextFile(`${outputDir}/sweep.svg`);
    const tags = wellFormed(svg);
    assertEquals(tags[0], "svg");
    assertEquals((svg.match(/<rect class="cell"/g) ?? []).length, 4);
    for (const label of ["p (candidate discard ratio)", "q (drop rate in the region)", ">0.3<", ">0.8<"]) {
      if (!svg.includes(label)) throw new Error(`the SVG lacks ${label}`);
    }
    // A rerun finds every run done and trains nothing.
    const messages: string[] = [];
    const again = await sweep(o, (e) => e.type === "info" && messages.push(e.message));
    assertEquals(messages.filter((m) => m.endsWith("skipped")).length, 8);
    assertEquals(again.cells, r.cells);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseSweepArgs: grid flags, switches and pass-through train flags", async () => {
  const o = await parseSweepArgs([
    "--output-dir",
    "out",
    "--p",
    "0.1,0.5",
    "--q=0.2",
    "--seeds",
    "1,2,3",
    "--attributions",
    "grad,attention",
    "--layers-grid",
    "0;all;1,2",
    "--model",
    "m",
    "--epochs",
    "2",
    "--no-cross-tuning",
    "--max-steps",
    "-1",
  ]);
  assertEquals([o.p, o.q, o.seeds, o.attributions, o.layersGrid], [
    [0.1, 0.5],
    [0.2],
    [1, 2, 3],
    ["grad", "attention"],
    [[0], "all", [1, 2]],
  ]);
  assertEquals([o.base.model, o.base.epochs, o.base.crossTuning, o.base.maxSteps], ["m", 2, false, -1]);
  const bad = [
    ["--output-dir", "o", "--p", "0.1,2"], // p outside [0, 1]
    ["--output-dir", "o", "--attributions", "gradient"],
    ["--output-dir", "o", "--lerning-rate", "1"], // misspelt train flag
    ["--p", "0.1"], // no output folder
    ["--output-dir", "o", "--layers-grid", "0;x"],
  ];
  for (const args of bad) {
    let threw = false;
    try {
      await parseSweepArgs(args);
    } catch {
      threw = true;
    }
    if (!threw) throw new Error(`accepted ${args.join(" ")}`);
  }
});
