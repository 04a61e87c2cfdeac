/**
 * The WGSL counter-based generator (shaders/random.wgsl) shared by every shader that draws random numbers.
 *
 * @module
 */
import randomWgsl from "../../shaders/random.wgsl" with { type: "text" };

/** `code` with the generator appended (after it, so compile errors keep the file's own line numbers). */
export function withRandom(code: string): string {
  return `${code}\n${randomWgsl}`;
}
