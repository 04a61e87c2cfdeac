/**
 * Parameters, gradients and AdamW moments in four arenas (one buffer each) with one view per parameter.
 * Parameters with weight decay come first, then those without, so the optimizer runs over two contiguous
 * regions, the gradient norm over one buffer, and zeroing the gradients is one clear.
 *
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { createTensor, type Tensor, writeTensor } from "../gpu/tensor.ts";

/** What the store needs to know of a parameter. */
export interface StoredParam {
  name: string;
  shape: readonly number[];
  decay: boolean;
}

/** Element offsets are aligned to 256 bytes, the largest `minStorageBufferOffsetAlignment` WebGPU allows. */
const ALIGN = 64;

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The arenas and the per-parameter views. */
export class ParamStore {
  private constructor(
    readonly specs: readonly StoredParam[],
    readonly params: Tensor,
    readonly grads: Tensor,
    readonly m: Tensor,
    readonly v: Tensor,
    readonly offsets: ReadonlyMap<string, number>,
    /** Elements [0, decayEnd) hold the parameters with weight decay, [decayEnd, total) the others. */
    readonly decayEnd: number,
  ) {}

  /** Allocates the arenas for `specs` (zero-filled). */
  static async create(gpu: Gpu, specs: readonly StoredParam[]): Promise<ParamStore> {
    const ordered = [...specs.filter((s) => s.decay), ...specs.filter((s) => !s.decay)];
    const offsets = new Map<string, number>();
    let at = 0;
    let decayEnd = 0;
    for (const s of ordered) {
      if (offsets.has(s.name)) throw new Error(`parameter '${s.name}' is listed twice`);
      offsets.set(s.name, at);
      at = align(at + sizeOf(s.shape));
      if (s.decay) decayEnd = at;
    }
    const total = Math.max(ALIGN, at);
    const make = (label: string) => createTensor(gpu, [total], "f32", { label });
    return new ParamStore(
      specs,
      await make("parameters"),
      await make("gradients"),
      await make("adam m"),
      await make("adam v"),
      offsets,
      decayEnd,
    );
  }

  /** Total elements of each arena (including alignment gaps, which stay zero). */
  get total(): number {
    return this.params.size;
  }

  /** Number of real parameter elements. */
  get count(): number {
    return this.specs.reduce((a, s) => a + sizeOf(s.shape), 0);
  }

  #view(arena: Tensor, name: string): Tensor {
    const off = this.offsets.get(name);
    if (off === undefined) throw new Error(`no parameter named '${name}'`);
    const spec = this.specs.find((s) => s.name === name)!;
    return arena.view(spec.shape, off, name);
  }

  /** The parameter's view. */
  param(name: string): Tensor {
    return this.#view(this.params, name);
  }

  /** The parameter's gradient view. */
  grad(name: string): Tensor {
    return this.#view(this.grads, name);
  }

  /** True when the store has a parameter of that name. */
  has(name: string): boolean {
    return this.offsets.has(name);
  }

  /** Uploads values for every parameter (in `specs` order). */
  upload(gpu: Gpu, values: readonly Float32Array[]): void {
    this.specs.forEach((s, i) => writeTensor(gpu, this.param(s.name), values[i]));
  }

  /** The decay and no-decay regions of an arena, as views (either may be empty). */
  regions(arena: Tensor): { decay: Tensor | null; noDecay: Tensor | null } {
    const n = this.total;
    return {
      decay: this.decayEnd > 0 ? arena.view([this.decayEnd], 0, `${arena.label} (decay)`) : null,
      noDecay: this.decayEnd < n
        ? arena.view([n - this.decayEnd], this.decayEnd, `${arena.label} (no decay)`)
        : null,
    };
  }

  /** Frees the arenas. */
  destroy(): void {
    for (const t of [this.params, this.grads, this.m, this.v]) t.destroy();
  }
}
