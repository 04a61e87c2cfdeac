/**
 * Safetensors writer: F32 tensors, header JSON padded with spaces to a multiple of 8 bytes, contiguous offsets,
 * streamed to a temporary file beside the target and renamed into place.
 *
 * @module
 */
import { SafetensorsError } from "./safetensors.ts";

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A tensor to write: its shape and f32 data (length = product of shape). */
export interface NamedTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** Builds the padded header bytes (length prefix included) for F32 tensors written in the given order. */
export function encodeHeader(
  tensors: readonly NamedTensor[],
  metadata?: Record<string, string>,
  file = "(in memory)",
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.data.length !== product(t.shape)) {
      throw new SafetensorsError(
        file,
        `tensor '${t.name}': shape ${JSON.stringify(t.shape)} needs ${
          product(t.shape)
        } values, got ${t.data.length}`,
      );
    }
    if (t.name in header) throw new SafetensorsError(file, `duplicate tensor name '${t.name}'`);
    header[t.name] = {
      dtype: "F32",
      shape: [...t.shape],
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const raw = new TextEncoder().encode(json);
  json += " ".repeat((8 - (raw.length % 8)) % 8);
  const body = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
  out.set(body, 8);
  return out;
}

/**
 * Writes F32 tensors to `path` (streamed through a temporary file and a rename). `metadata` defaults to
 * `{format: "pt"}`, which transformers expects.
 *
 * @example
 * ```ts
 * import { openSafetensors } from "./src/io/safetensors.ts";
 * import { writeSafetensors } from "./src/io/safetensors_writer.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, [{ name: "w", shape: [2], data: new Float32Array([1, 2]) }]);
 * const src = await openSafetensors(path);
 * console.log(await src.get("w")); // Float32Array(2) [ 1, 2 ]
 * src.close();
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly NamedTensor[],
  { metadata = { format: "pt" } }: { metadata?: Record<string, string> | null } = {},
): Promise<void> {
  const header = encodeHeader(tensors, metadata ?? undefined, path);
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    await writeAll(file, header);
    for (const t of tensors) {
      await writeAll(file, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    file.close();
    await Deno.rename(tmp, path);
  } catch (e) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}
