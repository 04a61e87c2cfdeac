/**
 * `deno task predict`: not built yet. It exits non-zero with an honest message rather than pretending.
 *
 * @module
 */
console.error(
  "addrop: `deno task predict` is not implemented yet. What exists today: the WebGPU runtime and the first " +
    "kernels (`deno task test`, `deno task bench`). See the README's status section.",
);
Deno.exit(2);
