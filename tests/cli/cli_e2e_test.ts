/**
 * The `deno task` entry scripts as subprocesses: bad data, unknown flags, bad values and unknown config keys
 * exit non-zero with a message naming the file and line or the flag, and leave no output behind; predict and
 * evaluate run once each on a tiny scratch model.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { readJson, readJsonl, ROOT, sentence, tmpFiles, wordModel } from "../_util/e2e.ts";
import { hasGpu } from "../_util/gpu.ts";

async function run(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tasks/${script}.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

function cliTest(name: string, gpu: boolean, fn: (dir: string) => Promise<void>): void {
  Deno.test({
    name,
    ignore: gpu && !hasGpu,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "addrop_cli_e2e_" });
      try {
        await fn(dir);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

async function fixture(dir: string) {
  const model = await wordModel(`${dir}/model`, {
    head: "sequence_classification",
    labels: ["neg", "pos"],
    hidden: 16,
    initScale: 25,
  });
  const rows = Array.from({ length: 20 }, (_, i) => {
    const text = sentence(i, 4);
    return JSON.stringify({ text, label: text.includes("good") ? "pos" : "neg" });
  });
  await Deno.writeTextFile(`${dir}/data.jsonl`, rows.join("\n") + "\n");
  return { model, data: `${dir}/data.jsonl`, rows };
}

const absent = (path: string) => rejects(Deno.stat(path), Deno.errors.NotFound);

/** Exit status 1, `want` in stderr, no stack (a known error), `output` not written and no temporary file. */
async function failedCleanly(
  r: { code: number; stderr: string },
  want: string[],
  output: string,
  dir: string,
) {
  assertEquals(r.code, 1, r.stderr);
  for (const w of want) assert(r.stderr.includes(w), r.stderr);
  assert(!r.stderr.includes("    at "), `a known error prints no stack:\n${r.stderr}`);
  await absent(output);
  assertEquals(await tmpFiles(dir), []);
}

cliTest("tasks/train.ts: flags without --model say so and point at the default run", false, async (dir) => {
  const r = await run("train", ["--output-dir", `${dir}/out`, "--epochs", "1"]);
  await failedCleanly(
    r,
    ["train: no --model given", "`deno task train` with no flags at all"],
    `${dir}/out`,
    dir,
  );
});

cliTest("tasks/train.ts: a bad row exits non-zero naming file and line; no output dir", true, async (dir) => {
  const { model, rows } = await fixture(dir);
  rows[6] = '{"text": "no label here"}';
  await Deno.writeTextFile(`${dir}/bad.jsonl`, rows.join("\n") + "\n");
  const r = await run("train", [
    "--model",
    model,
    "--train",
    `${dir}/bad.jsonl`,
    "--output-dir",
    `${dir}/out`,
  ]);
  await failedCleanly(r, [`addrop: ${dir}/bad.jsonl:7: `], `${dir}/out`, dir);
});

cliTest(
  "tasks/train.ts: an error after loading (a layer that does not exist) leaves nothing",
  true,
  async (dir) => {
    const { model, data } = await fixture(dir);
    const r = await run("train", [
      "--model",
      model,
      "--train",
      data,
      "--output-dir",
      `${dir}/out`,
      "--layers",
      "3",
    ]);
    assertEquals(r.code, 1, r.stderr);
    assert(r.stderr.includes("--layers 3: layer 3 does not exist (the model has 1 layers"), r.stderr);
    await absent(`${dir}/out`);
    assertEquals(await tmpFiles(dir), []);
  },
);

cliTest("tasks/train.ts: unknown flags and bad values exit non-zero naming the flag", false, async (dir) => {
  const unknown = await run("train", ["--model", dir, "--train", "x.jsonl", "--learning-rat", "1e-3"]);
  assert(unknown.code !== 0);
  assert(unknown.stderr.includes("--learning-rat"), unknown.stderr);

  const bad = await run("train", ["--model", dir, "--train", "x.jsonl", "--p", "1.5", "--batch-size", "0"]);
  assertEquals(bad.code, 2, bad.stderr);
  assert(/--p \(p\): must be in \[0, 1\]; got "1\.5"/.test(bad.stderr), bad.stderr);
  assert(/--batch-size \(batchSize\): must be >= 1; got "0"/.test(bad.stderr), bad.stderr);
});

cliTest("tasks/train.ts: --config lists its unknown keys", false, async (dir) => {
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({ "learning-rate": 1e-3, epochs: 2, warmup: 0.1, adrop: true }),
  );
  const r = await run("train", ["--config", `${dir}/config.json`, "--model", dir]);
  assertEquals(r.code, 2, r.stderr);
  assert(r.stderr.includes(`invalid options in ${dir}/config.json`), r.stderr);
  assert(r.stderr.includes("unknown options 'warmup', 'adrop'"), r.stderr);
});

cliTest("tasks/predict.ts and tasks/evaluate.ts run on a checkpoint", true, async (dir) => {
  const { model, data } = await fixture(dir);
  const p = await run("predict", ["--model", model, "--input", data, "--output", `${dir}/pred.jsonl`]);
  assertEquals(p.code, 0, p.stderr);
  assert(p.stderr.includes(`wrote 20 predictions to ${dir}/pred.jsonl`), p.stderr);
  const pred = await readJsonl<{ label: string; probabilities: number[] }>(`${dir}/pred.jsonl`);
  assertEquals(pred.length, 20);
  assert(pred.every((r) => ["neg", "pos"].includes(r.label) && r.probabilities.length === 2));

  const e = await run("evaluate", ["--model", model, "--validation", data, "--output", `${dir}/m.json`]);
  assertEquals(e.code, 0, e.stderr);
  const printed = JSON.parse(e.stdout);
  assertEquals(await readJson(`${dir}/m.json`), printed);
  const gold = (await readJsonl<{ label: string }>(data)).map((r) => r.label);
  assertEquals(printed.accuracy, pred.filter((r, i) => r.label === gold[i]).length / 20);

  const bad = await run("predict", [
    "--model",
    model,
    "--input",
    data,
    "--output",
    `${dir}/p2.jsonl`,
    "--batch-size",
    "0",
  ]);
  assertEquals(bad.code, 1, bad.stderr);
  assert(bad.stderr.includes("--batch-size must be an integer >= 1, got '0'"), bad.stderr);
  await absent(`${dir}/p2.jsonl`);

  // (--batch-size 0 used to loop until the heap was full; --max-length abc reached the GPU as a NaN shape.)
  for (
    const [flag, value, message] of [
      ["--batch-size", "0", "--batch-size must be an integer >= 1, got '0'"],
      ["--max-length", "abc", "--max-length must be an integer >= 2, got 'abc'"],
    ]
  ) {
    const r = await run("evaluate", [
      "--model",
      model,
      "--validation",
      data,
      "--output",
      `${dir}/m2.json`,
      flag,
      value,
    ]);
    assertEquals(r.code, 1, r.stderr);
    assert(r.stderr.includes(message), r.stderr);
    await absent(`${dir}/m2.json`);
  }
  assertEquals(await tmpFiles(dir), []);
});

cliTest(
  "tasks/predict.ts: a checkpoint without tokenizer files exits 1 naming the directory, with no stack or output",
  true,
  async (dir) => {
    const { model, data } = await fixture(dir);
    for (const f of ["tokenizer.json", "vocab.txt", "vocab.json", "merges.txt"]) {
      await Deno.remove(`${model}/${f}`).catch(() => {});
    }
    const r = await run("predict", ["--model", model, "--input", data, "--output", `${dir}/out.jsonl`]);
    const want = `addrop: ${model}: no tokenizer.json, vocab.txt, or vocab.json with merges.txt`;
    await failedCleanly(r, [want], `${dir}/out.jsonl`, dir);
  },
);

cliTest(
  "tasks/predict.ts: a missing input file exits 1 naming it, with no stack or output",
  true,
  async (dir) => {
    const { model } = await fixture(dir);
    const r = await run("predict", [
      "--model",
      model,
      "--input",
      `${dir}/none.jsonl`,
      "--output",
      `${dir}/out.jsonl`,
    ]);
    await failedCleanly(
      r,
      ["addrop: No such file or directory", `${dir}/none.jsonl`],
      `${dir}/out.jsonl`,
      dir,
    );
  },
);

const MARIAN = `${ROOT}tests/fixtures/marian`;

cliTest(
  "translation: train, then predict and evaluate on its output, from the command line",
  true,
  async (dir) => {
    const pairs = `${MARIAN}/pairs.jsonl`;
    const out = `${dir}/mt`;
    const t = await run("train", [
      ...["--model", MARIAN, "--train", pairs, "--validation", pairs, "--output-dir", out],
      ...["--epochs", "2", "--batch-size", "4", "--learning-rate", "1e-3"],
    ]);
    assertEquals(t.code, 0, t.stderr);
    assert(t.stderr.includes("[AD-DROP]"), t.stderr); // cross-tuning: epoch 2 runs AD-DROP
    assert(/eval after epoch 2: loss [\d.]+, bleu [\d.]+/.test(t.stderr), t.stderr);
    assert(t.stdout.includes("bleu"), t.stdout);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "generated_predictions.txt"]) {
      await Deno.stat(`${out}/${f}`);
    }
    const p = await run("predict", ["--model", out, "--input", pairs, "--output", `${dir}/tr.jsonl`]);
    assertEquals(p.code, 0, p.stderr);
    const rows = await readJsonl(`${dir}/tr.jsonl`);
    assertEquals(rows.length, 9);
    assertEquals(Object.keys(rows[0]), ["source", "translation"]);
    const e = await run("evaluate", ["--model", out, "--validation", pairs, "--output", `${dir}/m.json`]);
    assertEquals(e.code, 0, e.stderr);
    assertEquals(Object.keys(await readJson(`${dir}/m.json`)), ["bleu", "bleu_bp", "loss", "samples"]);
    assertEquals(await tmpFiles(dir), []);
  },
);

cliTest(
  "translation: a pair without a target fails cleanly; attribute draws a Marian model's encoder attribution",
  true,
  async (dir) => {
    await Deno.writeTextFile(
      `${dir}/bad.jsonl`,
      '{"source": "the cat", "target": "pisica"}\n{"source": "a dog"}\n',
    );
    const r = await run("train", [
      "--model",
      MARIAN,
      "--train",
      `${dir}/bad.jsonl`,
      "--output-dir",
      `${dir}/out`,
    ]);
    await failedCleanly(r, [`addrop: ${dir}/bad.jsonl:2: `, "'target'"], `${dir}/out`, dir);
    // Rows without a target are attributed through the model's own greedy translation.
    const args = [
      "--model",
      MARIAN,
      "--input",
      `${dir}/bad.jsonl`,
      "--layer",
      "1",
      "--output",
      `${dir}/a.json`,
    ];
    const a = await run("attribute", [...args, "--method", "grad", "--html", `${dir}/a.html`, "--p", "0.3"]);
    assertEquals(a.code, 0, a.stderr);
    const json = await readJson(`${dir}/a.json`) as {
      examples: { tokens: string[]; translation: string[] }[];
    };
    assertEquals(json.examples.map((e) => e.tokens.length), [3, 3]);
    assert(json.examples.every((e) => e.translation.length > 0));
    await Deno.stat(`${dir}/a.html`);
    const bad = [
      "--model",
      MARIAN,
      "--input",
      `${dir}/bad.jsonl`,
      "--layer",
      "2",
      "--output",
      `${dir}/b.json`,
    ];
    const layer = await run("attribute", [...bad, "--method", "ig"]);
    await failedCleanly(layer, ["--layer 2: the encoder has layers 0..1"], `${dir}/b.json`, dir);
  },
);
