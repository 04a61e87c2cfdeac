/**
 * Packing of a kernel's `Params` uniform struct. Fields are 4 bytes each (u32, i32, f32) in declaration order;
 * the struct is padded to 16 bytes.
 *
 * @module
 */

/** Builds the bytes of a `Params` uniform: `new ParamPack().u32(B).u32(T).f32(eps).bytes()`. */
export class ParamPack {
  #values: number[] = [];
  #types: ("u" | "i" | "f")[] = [];

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 param out of range: ${v}`);
    this.#values.push(v);
    this.#types.push("u");
    return this;
  }

  i32(v: number): this {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new RangeError(`i32 param out of range: ${v}`);
    }
    this.#values.push(v);
    this.#types.push("i");
    return this;
  }

  f32(v: number): this {
    this.#values.push(v);
    this.#types.push("f");
    return this;
  }

  bytes(): ArrayBuffer {
    const n = Math.max(4, Math.ceil(this.#values.length / 4) * 4);
    const buf = new ArrayBuffer(n * 4);
    const view = new DataView(buf);
    this.#values.forEach((v, i) => {
      const t = this.#types[i];
      if (t === "f") view.setFloat32(i * 4, v, true);
      else if (t === "i") view.setInt32(i * 4, v, true);
      else view.setUint32(i * 4, v, true);
    });
    return buf;
  }
}
