/**
 * `deno task bench [--filter TEXT[,TEXT...]] [--json FILE] [--markdown]`: runs every case of `bench/*_bench.ts`
 * (or those whose name contains one of the filter's texts) on one device and prints a table; `--json FILE` also
 * writes every figure as `{"adapter", "date", "results": [{"name", "unit", "median", "min", "max"}]}`, rewritten
 * after each case, so a run cut short (a time limit on a borrowed GPU) keeps the cases it finished.
 *
 * @module
 */
import { Command } from "npm:commander@15.1.0";
import type { BenchCase, BenchResult } from "../bench/_util.ts";
import { requestGpu } from "../src/gpu/device.ts";
import { writeFileAtomic } from "../src/io/atomic.ts";

const program = new Command("bench")
  .description("run the GPU benchmarks of bench/*_bench.ts")
  .option("--filter <texts>", "only cases whose name contains this text (or one of these, comma-separated)")
  .option("--json <file>", "also write the results as JSON")
  .option("--markdown", "print the table as Markdown (for the README)");
program.parse(["deno", "bench", ...Deno.args]);
const opts = program.opts<{ filter?: string; json?: string; markdown?: boolean }>();

const dir = new URL("../bench/", import.meta.url);
const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith("_bench.ts")).sort();
const cases: BenchCase[] = [];
for (const f of files) cases.push(...(await import(new URL(f, dir).href)).benchmarks as BenchCase[]);

const first = await requestGpu();
const adapter = `${first.description.name} (${first.description.kind})`;
first.destroy();
console.error(`adapter: ${adapter}`);
const results: BenchResult[] = [];
const date = new Date().toISOString().slice(0, 10);
const filters = opts.filter?.split(",").map((x) => x.trim()).filter((x) => x) ?? [];
const selected = cases.filter((c) => !filters.length || filters.some((f) => c.name.includes(f)));
if (!selected.length) {
  console.error(`no benchmark's name contains ${filters.map((f) => `'${f}'`).join(" or ")}`);
  Deno.exit(2);
}
for (const c of selected) {
  console.error(`running ${c.name} ...`);
  // A fresh device per case: on lavapipe, timestamp queries of passes recorded after a pass that wrote a
  // storage texture (the packed matmul) read near zero on the same device (measured: a 30 ms matmul as
  // 0.05 ms), and no case should see another's state anyway. Mesa's shader disk cache keeps recompiles short.
  const gpu = await requestGpu();
  for (const r of await c.run(gpu)) {
    results.push(r);
    console.error(
      `  ${r.name}: ${r.median.toPrecision(4)} ${r.unit} (min ${r.min.toPrecision(4)}, max ${
        r.max.toPrecision(4)
      })`,
    );
  }
  gpu.destroy();
  if (opts.json) await writeJson(opts.json);
}

if (opts.markdown) {
  console.log(`Adapter: ${adapter}, ${date}, \`deno task bench\`\n`);
  console.log("| benchmark | median | min | max | unit | note |\n|---|---:|---:|---:|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.name} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.unit} | ${r.note ?? ""} |`,
    );
  }
} else {
  for (const r of results) console.log(`${r.name.padEnd(44)} ${fmt(r.median).padStart(10)} ${r.unit}`);
}
if (opts.json) console.error(`wrote ${opts.json}`);

/** The results so far as JSON (atomically: a reader never sees half a file). */
async function writeJson(file: string): Promise<void> {
  await writeFileAtomic(file, JSON.stringify({ adapter, date, results }, null, 2) + "\n");
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(3);
}
