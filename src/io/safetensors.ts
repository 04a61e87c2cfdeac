/**
 * Safetensors checkpoints, read and written by hand (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header `{name: {dtype, shape, data_offsets: [begin, end)}, __metadata__?}`
 * and the raw little-endian data. Only the header is read eagerly; each tensor is read by its offsets when asked
 * for, so a 440 MB BERT-base file never sits in memory twice. F32, F16 and BF16 are read (converted to f32);
 * only F32 is written (safetensors_writer.ts). Sharded checkpoints (`model.safetensors.index.json`) are opened transparently.
 *
 * @module
 */
import { join } from "node:path";

/** Raised for any unreadable, inconsistent or unsupported safetensors file; names the file and the problem. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
  }
}

/** Element types the reader accepts, with their byte sizes. */
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
/** Largest header accepted, in bytes: real headers are a few hundred kB. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** One tensor of a file: its element type, shape and absolute byte range in the file. */
export interface TensorInfo {
  dtype: "F32" | "F16" | "BF16";
  shape: number[];
  /** Absolute byte offset of the first byte in the file. */
  start: number;
  /** Number of bytes. */
  bytes: number;
}

/** Anything that hands out tensors by name: one file or a sharded checkpoint. */
export interface TensorSource {
  /** Tensor names in file order. */
  names(): string[];
  /** Shape of a tensor; throws for an unknown name. */
  info(name: string): TensorInfo;
  /** Reads one tensor, converted to f32. */
  get(name: string): Promise<Float32Array>;
  /** Releases the open files. */
  close(): void;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Parses and validates a header (`bytes` excludes the 8-byte length) for a file of `fileSize` bytes. */
export function parseHeader(
  file: string,
  bytes: Uint8Array,
  fileSize: number,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new SafetensorsError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SafetensorsError(file, "header is not a JSON object");
  }
  const dataStart = 8 + bytes.length;
  const dataLen = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof v !== "object" || v === null || Object.values(v).some((x) => typeof x !== "string")) {
        throw new SafetensorsError(file, "__metadata__ must be an object of strings");
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) {
      throw new SafetensorsError(file, `tensor '${name}': not an object`);
    }
    if (typeof e.dtype !== "string" || !(e.dtype in DTYPE_BYTES)) {
      throw new SafetensorsError(
        file,
        `tensor '${name}': unsupported dtype ${JSON.stringify(e.dtype)} (expected F32, F16 or BF16)`,
      );
    }
    const isDim = (d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0;
    if (!Array.isArray(e.shape) || !e.shape.every(isDim)) {
      throw new SafetensorsError(file, `tensor '${name}': bad shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isDim) || off[0] > off[1]) {
      throw new SafetensorsError(file, `tensor '${name}': bad data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen) {
      throw new SafetensorsError(
        file,
        `tensor '${name}': data_offsets [${begin}, ${end}) out of range of the ${dataLen}-byte data section`,
      );
    }
    const expected = product(e.shape) * DTYPE_BYTES[e.dtype];
    if (end - begin !== expected) {
      throw new SafetensorsError(
        file,
        `tensor '${name}': shape ${JSON.stringify(e.shape)} of ${e.dtype} needs ${expected} bytes, ` +
          `data_offsets give ${end - begin}`,
      );
    }
    tensors.set(name, {
      dtype: e.dtype as TensorInfo["dtype"],
      shape: e.shape,
      start: dataStart + begin,
      bytes: end - begin,
    });
    ranges.push([begin, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) {
      throw new SafetensorsError(file, `tensors '${ranges[i - 1][2]}' and '${ranges[i][2]}' overlap`);
    }
  }
  return { tensors, metadata };
}

/** Converts raw little-endian bytes of `dtype` to f32. `bytes` must own its buffer from offset 0. */
export function toFloat32(dtype: TensorInfo["dtype"], bytes: Uint8Array): Float32Array {
  if (dtype === "F32") return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const half = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  const out = new Float32Array(half.length);
  if (dtype === "BF16") {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16;
    return out;
  }
  for (let i = 0; i < half.length; i++) out[i] = f16ToF32(half[i]);
  return out;
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

async function readExactly(file: Deno.FsFile, buf: Uint8Array, at: number, path: string): Promise<void> {
  await file.seek(at, Deno.SeekMode.Start);
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) {
      throw new SafetensorsError(path, `file ends at byte ${at + got}, expected ${buf.length} more`);
    }
    got += n;
  }
}

/** One open `.safetensors` file: header parsed, tensors read on demand. */
export class SafetensorsFile implements TensorSource {
  private constructor(
    readonly path: string,
    private readonly file: Deno.FsFile,
    readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  /** Opens `path` and validates its header. */
  static async open(path: string): Promise<SafetensorsFile> {
    const file = await Deno.open(path, { read: true });
    try {
      const size = (await file.stat()).size;
      if (size < 8) {
        throw new SafetensorsError(path, `truncated header: file has ${size} bytes, fewer than 8`);
      }
      const lenBytes = new Uint8Array(8);
      await readExactly(file, lenBytes, 0, path);
      const len = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
      if (len > MAX_HEADER_BYTES) {
        throw new SafetensorsError(
          path,
          `header length ${len} exceeds the maximum of ${MAX_HEADER_BYTES} bytes`,
        );
      }
      if (8 + len > size) {
        throw new SafetensorsError(path, `truncated header: length ${len} but the file has ${size} bytes`);
      }
      const header = new Uint8Array(len);
      await readExactly(file, header, 8, path);
      const { tensors, metadata } = parseHeader(path, header, size);
      return new SafetensorsFile(path, file, tensors, metadata);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(this.path, `no tensor named '${name}'`);
    return t;
  }

  async get(name: string): Promise<Float32Array> {
    const t = this.info(name);
    const buf = new Uint8Array(t.bytes);
    await readExactly(this.file, buf, t.start, this.path);
    return toFloat32(t.dtype, buf);
  }

  close(): void {
    this.file.close();
  }
}

/** A checkpoint split into shards by `model.safetensors.index.json`. */
class ShardedSource implements TensorSource {
  constructor(
    private readonly index: string,
    private readonly where: Map<string, SafetensorsFile>,
    private readonly shards: SafetensorsFile[],
  ) {}
  names(): string[] {
    return [...this.where.keys()];
  }
  info(name: string): TensorInfo {
    const f = this.where.get(name);
    if (!f) throw new SafetensorsError(this.index, `no tensor named '${name}'`);
    return f.info(name);
  }
  async get(name: string): Promise<Float32Array> {
    this.info(name);
    return await this.where.get(name)!.get(name);
  }
  close(): void {
    for (const s of this.shards) s.close();
  }
}

/**
 * Opens a checkpoint: a `.safetensors` file, a `model.safetensors.index.json`, or a directory holding either.
 *
 * @example
 * ```ts
 * import { openSafetensors } from "./src/io/safetensors.ts";
 * const src = await openSafetensors("tests/fixtures/bert_seq_cls");
 * console.log(src.names().length, src.info("classifier.weight").shape); // 41 [ 3, 32 ]
 * src.close();
 * ```
 */
export async function openSafetensors(path: string): Promise<TensorSource> {
  const stat = await Deno.stat(path).catch(() => null);
  if (!stat) throw new SafetensorsError(path, "no such file or directory");
  if (stat.isDirectory) {
    for (const f of ["model.safetensors", "model.safetensors.index.json"]) {
      if (await Deno.stat(join(path, f)).catch(() => null)) return openSafetensors(join(path, f));
    }
    throw new SafetensorsError(
      path,
      "no model.safetensors or model.safetensors.index.json (PyTorch .bin checkpoints are not read; " +
        "convert them to safetensors first)",
    );
  }
  if (!path.endsWith(".json")) return SafetensorsFile.open(path);
  return openSharded(path);
}

async function openSharded(path: string): Promise<TensorSource> {
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new SafetensorsError(path, `not a valid JSON index (${(e as Error).message})`);
  }
  const map = index.weight_map;
  if (typeof map !== "object" || map === null || Object.values(map).some((v) => typeof v !== "string")) {
    throw new SafetensorsError(path, "weight_map must be an object of tensor name -> shard file name");
  }
  const dir = path.slice(0, Math.max(0, path.lastIndexOf("/"))) || ".";
  const shards = new Map<string, SafetensorsFile>();
  const where = new Map<string, SafetensorsFile>();
  try {
    for (const [name, shard] of Object.entries(map as Record<string, string>)) {
      if (shard.includes("/") || shard.includes("\\")) {
        throw new SafetensorsError(
          path,
          `shard '${shard}' of '${name}' must be a file name in the same folder`,
        );
      }
      if (!shards.has(shard)) shards.set(shard, await SafetensorsFile.open(join(dir, shard)));
      const f = shards.get(shard)!;
      if (!f.tensors.has(name)) {
        throw new SafetensorsError(f.path, `index lists '${name}' but the shard lacks it`);
      }
      where.set(name, f);
    }
  } catch (e) {
    for (const s of shards.values()) s.close();
    throw e;
  }
  return new ShardedSource(path, where, [...shards.values()]);
}
