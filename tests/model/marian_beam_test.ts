/**
 * Beam search against transformers' own `generate(num_beams=K)` (tests/fixtures/marian_trained/beam.json, written
 * by scripts/check_hf_marian.py from a checkpoint fine-tuned by `deno task train`, and the same for the random
 * tests/fixtures/marian, whose beams differ more from greedy search): the same ids for 15 sources
 * and four (beams, new tokens) settings, with hypotheses ending at eos and at the length limit; greedy is beam
 * search with one beam.
 */
import assert from "node:assert/strict";
import { greedyGenerate, loadMarian, MarianModel } from "../../src/model/marian.ts";
import { beamSearch, beamSearchCached } from "../../src/model/marian_beam.ts";
import { greedyGenerateCached } from "../../src/model/marian_decode.ts";
import { openSafetensors } from "../../src/io/safetensors.ts";
import { gpuTest } from "../_util/gpu.ts";
import { predict } from "../../src/pipeline/predict.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";

const DIRS = ["marian_trained", "marian"].map((d) => new URL(`../fixtures/${d}`, import.meta.url).pathname);

interface BeamFixture {
  sources: string[];
  source_ids: number[][];
  cases: { num_beams: number; max_new_tokens: number; generated: number[][] }[];
}

for (const DIR of DIRS) {
  gpuTest(
    `beam search gives transformers' generate(num_beams) ids: ${DIR.split("/").at(-1)}`,
    async (gpu) => {
      const f = JSON.parse(await Deno.readTextFile(`${DIR}/beam.json`)) as BeamFixture;
      const loaded = await loadMarian(gpu, DIR);
      const rows = f.source_ids.length * Math.max(...f.cases.map((c) => c.num_beams));
      const m = await MarianModel.create(gpu, loaded, { maxBatch: rows, maxLength: 16 });
      for (const c of f.cases) {
        for (const search of [beamSearch, beamSearchCached]) {
          const got = await search(m, f.source_ids, {
            numBeams: c.num_beams,
            maxNewTokens: c.max_new_tokens,
          });
          got.forEach((ids, i) =>
            assert.deepEqual(
              ids,
              c.generated[i],
              `${search.name}: ${c.num_beams} beams, ${c.max_new_tokens} tokens: '${f.sources[i]}'`,
            )
          );
        }
      }
      // One beam is greedy search.
      const greedy = await greedyGenerate(m, f.source_ids, { maxNewTokens: 10 });
      assert.deepEqual(await beamSearch(m, f.source_ids, { numBeams: 1, maxNewTokens: 10 }), greedy);
      assert.deepEqual(await beamSearchCached(m, f.source_ids, { numBeams: 1, maxNewTokens: 10 }), greedy);
      await assert.rejects(
        beamSearch(m, f.source_ids, { numBeams: 100, maxNewTokens: 4 }),
        /generation for 15 sources in 1500 rows needs 1500 x \d+/,
      );
      m.destroy();
      loaded.store.destroy();
    },
  );
}

gpuTest("predict() with numBeams translates as transformers' beam search", async (gpu) => {
  const dir = DIRS[0];
  const f = JSON.parse(await Deno.readTextFile(`${dir}/beam.json`)) as BeamFixture;
  const c = f.cases[0];
  const tmp = await Deno.makeTempDir({ prefix: "addrop_beam_" });
  try {
    await Deno.writeTextFile(
      `${tmp}/in.jsonl`,
      f.sources.map((source) => JSON.stringify({ source })).join("\n"),
    );
    const n = await predict({
      model: dir,
      input: `${tmp}/in.jsonl`,
      output: `${tmp}/out.jsonl`,
      numBeams: c.num_beams,
      maxNewTokens: c.max_new_tokens,
      batchSize: 4,
      gpu,
    });
    assert.equal(n, f.sources.length);
    const tok = await loadTokenizer(dir);
    // The same ids as the Python tokenizers library gave, unknown words (one <unk> per run of unknown characters)
    // included.
    assert.deepEqual(f.sources.map((x) => tok.encode(x).ids), f.source_ids);
    const want = c.generated.map((ids) => tok.tokenizer.decode(ids, { skip_special_tokens: true }));
    const got = (await Deno.readTextFile(`${tmp}/out.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l).translation
    );
    assert.deepEqual(got, want);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

gpuTest(
  "greedy generation with the key/value cache gives the full recomputation's ids and transformers'",
  async (gpu) => {
    for (const dir of DIRS) {
      const f = JSON.parse(await Deno.readTextFile(`${dir}/beam.json`)) as BeamFixture;
      const loaded = await loadMarian(gpu, dir);
      const m = await MarianModel.create(gpu, loaded, { maxBatch: f.source_ids.length, maxLength: 16 });
      for (const n of [1, 4, 12]) {
        assert.deepEqual(
          await greedyGenerateCached(m, f.source_ids, { maxNewTokens: n }),
          await greedyGenerate(m, f.source_ids, { maxNewTokens: n }),
          `${dir}: ${n} new tokens`,
        );
      }
      m.destroy();
      loaded.store.destroy();
    }
    // The golden fixture's generate(max_new_tokens=8) ids (eos, forced eos, pad after).
    const dir = DIRS[1];
    const e = await openSafetensors(`${dir}/expected.safetensors`);
    const [B, Ts] = e.info("input_ids").shape;
    const [, G] = e.info("generated").shape;
    const ids = await e.get("input_ids");
    const mask = await e.get("attention_mask");
    const generated = await e.get("generated");
    const sources = Array.from(
      { length: B },
      (_, b) => Array.from(ids.subarray(b * Ts, (b + 1) * Ts)).filter((_, t) => mask[b * Ts + t]),
    );
    const want = Array.from({ length: B }, (_, b) => {
      const row = Array.from(generated.subarray(b * G + 1, (b + 1) * G));
      const end = row.indexOf(0);
      return end < 0 ? row : row.slice(0, end + 1);
    });
    const loaded = await loadMarian(gpu, dir);
    const m = await MarianModel.create(gpu, loaded, { maxBatch: B, maxLength: 16 });
    assert.deepEqual(await greedyGenerateCached(m, sources, { maxNewTokens: G - 1 }), want);
    e.close();
    m.destroy();
    loaded.store.destroy();
  },
);
