/**
 * Splitting tensors into bindings no larger than `gpu.maxBindingBytes`: element ranges for elementwise and
 * reduction kernels (whole vec4s plus a scalar tail) and row ranges for row-wise kernels. Every range starts at
 * a byte offset aligned to `minStorageBufferOffsetAlignment` (relative to the tensor, so a view must itself start
 * at an aligned offset).
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { Binding } from "../gpu/encoder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ShapeError } from "./shapes.ts";

/** A range of a tensor's elements bound on its own: element `first` of the tensor is index 0 of the binding. */
export interface ElementRange {
  first: number;
  count: number;
}

/** Element ranges of an `n`-element tensor for a vec4 kernel: whole vec4s in `body`, the last `n % 4` in `tail`. */
export interface Vec4Split {
  /** Ranges of whole vec4s (`count % 4 === 0`), each at most `gpu.maxBindingBytes`. */
  body: ElementRange[];
  /** The range holding the last `n % 4` elements, from an aligned start; the kernel skips its first `skip`. */
  tail: (ElementRange & { skip: number }) | null;
}

/** Splits `n` elements into aligned vec4 ranges of at most `gpu.maxBindingBytes` and a scalar tail. */
export function splitVec4(gpu: Gpu, n: number): Vec4Split {
  const cap = Math.floor(gpu.maxBindingBytes / 16) * 4; // elements per range, a multiple of the alignment
  const alignElems = gpu.device.limits.minStorageBufferOffsetAlignment / 4;
  const whole = Math.floor(n / 4) * 4;
  const body: ElementRange[] = [];
  for (let first = 0; first < whole; first += cap) body.push({ first, count: Math.min(cap, whole - first) });
  if (whole === n) return { body, tail: null };
  const first = Math.floor(whole / alignElems) * alignElems;
  return { body, tail: { first, count: n - first, skip: whole - first } };
}

/** The binding of an element range of a tensor. */
export function elementBinding(t: Tensor, r: ElementRange): Binding {
  if (r.first === 0 && r.count === t.size) return t;
  return { tensor: t, offset: r.first * 4, size: r.count * 4 };
}

/** A range of whole rows: rows `first .. first + rows - 1`. */
export interface RowRange {
  first: number;
  rows: number;
}

/**
 * Splits `R` rows of `L` elements into ranges of at most `gpu.maxBindingBytes` whose starts are aligned (one
 * range of all R rows, possibly 0, when they fit whole). Throws when not even one aligned group of rows fits.
 */
export function splitRows(gpu: Gpu, R: number, L: number, kernel: string): RowRange[] {
  return splitRowsOf(gpu, R, [L], kernel);
}

/**
 * Splits `R` rows into ranges that fit one binding in each of several tensors sharing those rows, whose rows
 * hold `widths[i]` floats (an (R, K) input and an (R, N) output of a matmul, say): every range starts at an
 * aligned offset in each tensor. Returns one range of all R rows when every tensor fits whole.
 */
export function splitRowsOf(gpu: Gpu, R: number, widths: readonly number[], kernel: string): RowRange[] {
  if (widths.every((w) => R * w * 4 <= gpu.maxBindingBytes)) return [{ first: 0, rows: R }];
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  let step = 1;
  for (const w of widths) {
    const s = align / gcd(w * 4, align);
    step = (step * s) / gcd(step, s);
  }
  const fit = Math.min(...widths.map((w) => Math.floor(gpu.maxBindingBytes / (w * 4))));
  const perRange = Math.floor(fit / step) * step;
  if (perRange === 0) {
    throw new ShapeError(
      `${kernel}: ${step} rows of ${Math.max(...widths)} floats exceed the binding limit of ` +
        `${gpu.maxBindingBytes} bytes`,
    );
  }
  const out: RowRange[] = [];
  for (let first = 0; first < R; first += perRange) out.push({ first, rows: Math.min(perRange, R - first) });
  return out;
}

/**
 * Rows `r` of a tensor whose rows hold `width` elements, as a view for a kernel that takes tensors: the tensor
 * itself when `r` covers it, else a view, which must start at an aligned offset to be bound.
 */
export function blockView(
  gpu: Gpu,
  kernel: string,
  name: string,
  t: Tensor,
  r: RowRange,
  width: number,
): Tensor {
  if (r.first === 0 && r.rows * width === t.size) return t;
  const v = t.view([r.rows * width], r.first * width);
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  if (v.byteOffset % align !== 0) {
    throw new ShapeError(
      `${kernel}: '${name}' is split into row blocks above the binding limit, but its view starts at byte ` +
        `${t.byteOffset}, not a multiple of ${align}`,
    );
  }
  return v;
}

/** The binding of a row range of an (R, L) tensor. */
export function rowBinding(t: Tensor, r: RowRange, L: number): Binding {
  if (r.first === 0 && r.rows * L === t.size) return t;
  return { tensor: t, offset: r.first * L * 4, size: Math.max(4, r.rows * L * 4) };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
