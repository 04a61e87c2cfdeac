import { existsSync } from "node:fs";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSafetensors, SafetensorsError, SafetensorsFile } from "../../src/io/safetensors.ts";
import { encodeHeader, writeSafetensors } from "../../src/io/safetensors_writer.ts";
import { Rng } from "../_util/rng.ts";
import { tempDir, tempFile } from "../_util/tmp.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

/** A raw file from a header object and a data section. */
function rawFile(header: unknown, data: Uint8Array, lenOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lenOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function tmpWith(bytes: Uint8Array): Promise<string> {
  const path = await tempFile(".safetensors");
  await Deno.writeFile(path, bytes);
  return path;
}

Deno.test("safetensors round trip: shapes, values, metadata, 8-byte padded header", async () => {
  const rng = new Rng(1);
  const tensors = [
    { name: "a.weight", shape: [3, 5], data: rng.floats(15) },
    { name: "b", shape: [7], data: rng.floats(7) },
    { name: "scalar", shape: [], data: new Float32Array([2.5]) },
    { name: "empty", shape: [0, 4], data: new Float32Array(0) },
  ];
  const path = await tempFile(".safetensors");
  await writeSafetensors(path, tensors);
  const bytes = await Deno.readFile(path);
  const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.deepEqual(len % 8, 0);
  const f = await SafetensorsFile.open(path);
  assert.deepEqual(f.metadata, { format: "pt" });
  assert.deepEqual(f.names(), ["a.weight", "b", "scalar", "empty"]);
  for (const t of tensors) {
    assert.deepEqual(f.info(t.name).shape, t.shape);
    assert.deepEqual(await f.get(t.name), t.data);
  }
  f.close();
  // No temporary file is left beside the target.
  const dir = path.slice(0, path.lastIndexOf("/"));
  const leftovers = [...Deno.readDirSync(dir)].filter((e) =>
    e.name.startsWith(path.slice(dir.length + 1) + ".")
  );
  assert.deepEqual(leftovers, []);
});

Deno.test("safetensors F16 and BF16 are converted to f32", async () => {
  // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal 2^-24 = 0x0001, +inf = 0x7c00.
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]);
  // BF16: the upper 16 bits of f32: 1.0 = 0x3f80, -0.5 = 0xbf00, 3.140625 = 0x4049.
  const bf16 = new Uint16Array([0x3f80, 0xbf00, 0x4049]);
  const data = new Uint8Array(16);
  data.set(new Uint8Array(f16.buffer), 0);
  data.set(new Uint8Array(bf16.buffer), 10);
  const path = await tmpWith(rawFile({
    h: { dtype: "F16", shape: [5], data_offsets: [0, 10] },
    b: { dtype: "BF16", shape: [3], data_offsets: [10, 16] },
  }, data));
  const f = await SafetensorsFile.open(path);
  assert.deepEqual(await f.get("h"), new Float32Array([1, -2, 65504, 2 ** -24, Infinity]));
  assert.deepEqual(await f.get("b"), new Float32Array([1, -0.5, 3.140625]));
  f.close();
});

const GOOD = { t: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
const malformed: [string, () => Uint8Array, RegExp][] = [
  ["file shorter than 8 bytes", () => new Uint8Array(5), /truncated header/],
  ["header longer than the file", () => rawFile(GOOD, new Uint8Array(8), 10_000n), /truncated header/],
  ["header over the maximum", () => rawFile(GOOD, new Uint8Array(8), 200_000_000n), /exceeds the maximum/],
  ["header not JSON", () => rawFile("{not json", new Uint8Array(8)), /not valid JSON/],
  ["header a JSON array", () => rawFile([1, 2], new Uint8Array(8)), /not a JSON object/],
  [
    "unknown dtype",
    () => rawFile({ t: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /unsupported dtype "I64"/,
  ],
  [
    "offsets past the data",
    () => rawFile({ t: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)),
    /out of range/,
  ],
  [
    "shape and bytes disagree",
    () => rawFile({ t: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /needs 12 bytes, data_offsets give 8/,
  ],
  [
    "overlapping tensors",
    () =>
      rawFile({
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      }, new Uint8Array(12)),
    /'a' and 'b' overlap/,
  ],
  [
    "bad shape",
    () => rawFile({ t: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /bad shape/,
  ],
  [
    "reversed offsets",
    () => rawFile({ t: { dtype: "F32", shape: [0], data_offsets: [8, 0] } }, new Uint8Array(8)),
    /bad data_offsets/,
  ],
  [
    "metadata not strings",
    () => rawFile({ __metadata__: { a: 1 }, ...GOOD }, new Uint8Array(8)),
    /__metadata__/,
  ],
];
for (const [what, make, message] of malformed) {
  Deno.test(`safetensors rejects a file with ${what}, naming the file`, async () => {
    const path = await tmpWith(make());
    const err = await SafetensorsFile.open(path).then(() => null, (e) => e);
    assert.ok(err instanceof SafetensorsError, `expected a SafetensorsError, got ${err}`);
    assert.deepEqual(err.file, path);
    if (!message.test(err.message) || !err.message.startsWith(path)) {
      throw new Error(`message '${err.message}' does not match ${message} or name ${path}`);
    }
  });
}

Deno.test("safetensors sharded index is read transparently", async () => {
  const dir = await tempDir();
  const rng = new Rng(2);
  const a = rng.floats(6);
  const b = rng.floats(4);
  await writeSafetensors(join(dir, "model-00001-of-00002.safetensors"), [{
    name: "x.a",
    shape: [2, 3],
    data: a,
  }]);
  await writeSafetensors(join(dir, "model-00002-of-00002.safetensors"), [{
    name: "x.b",
    shape: [4],
    data: b,
  }]);
  const index = {
    metadata: { total_size: 40 },
    weight_map: { "x.a": "model-00001-of-00002.safetensors", "x.b": "model-00002-of-00002.safetensors" },
  };
  await Deno.writeTextFile(join(dir, "model.safetensors.index.json"), JSON.stringify(index));
  const src = await openSafetensors(dir);
  assert.deepEqual(src.names().sort(), ["x.a", "x.b"]);
  assert.deepEqual(src.info("x.a").shape, [2, 3]);
  assert.deepEqual(await src.get("x.a"), a);
  assert.deepEqual(await src.get("x.b"), b);
  await assert.rejects(
    () => src.get("x.c"),
    (e) => e instanceof SafetensorsError && /no tensor named 'x.c'/.test(e.message),
  );
  src.close();

  index.weight_map["x.b"] = "model-00001-of-00002.safetensors";
  await Deno.writeTextFile(join(dir, "model.safetensors.index.json"), JSON.stringify(index));
  await assert.rejects(
    () => openSafetensors(dir),
    (e) => e instanceof SafetensorsError && /index lists 'x.b' but the shard lacks it/.test(e.message),
  );
});

Deno.test("safetensors writer rejects data that does not fit the shape, naming the file", () => {
  let msg = "";
  try {
    encodeHeader([{ name: "w", shape: [2, 2], data: new Float32Array(3) }], undefined, "out.safetensors");
  } catch (e) {
    msg = (e as Error).message;
  }
  assert.deepEqual(msg, "out.safetensors: tensor 'w': shape [2,2] needs 4 values, got 3");
});

Deno.test("safetensors reads every fixture (checkpoint and expected outputs)", async () => {
  let count = 0;
  for (const entry of Deno.readDirSync(FIXTURES)) {
    if (!entry.isDirectory) continue;
    // Checkpoint fixtures only (training/ and attribution/ hold other safetensors files).
    if (!existsSync(join(FIXTURES, entry.name, "config.json"))) continue;
    // model.safetensors and expected.safetensors (bert_mlm: steps.safetensors) in each; marian also
    // attribution.safetensors; marian_trained only model.safetensors.
    const files = [...Deno.readDirSync(join(FIXTURES, entry.name))].map((e) => e.name)
      .filter((n) => n.endsWith(".safetensors"));
    for (const file of files) {
      const f = await SafetensorsFile.open(join(FIXTURES, entry.name, file));
      for (const name of f.names()) {
        const t = await f.get(name);
        assert.deepEqual(t.length, f.info(name).shape.reduce((x, y) => x * y, 1));
        if (!t.every(Number.isFinite)) {
          throw new Error(`${entry.name}/${file}: ${name} has non-finite values`);
        }
      }
      count++;
      f.close();
    }
  }
  assert.deepEqual(count, 14);
});
