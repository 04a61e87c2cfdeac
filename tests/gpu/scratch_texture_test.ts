import assert from "node:assert/strict";
import { scratchTexture } from "../../src/gpu/scratch_texture.ts";
import { gpuTest } from "../_util/gpu.ts";

// A role's textures are kept by size: a wide request and a tall one get a texture each (an LM head's wide
// operand and tall one once grew a single texture to the largest width by the largest height, 3.6 GiB), and a
// later request takes the smallest texture that fits. Sizes are never powers of two.
gpuTest("scratch textures: one per shape that does not fit, the smallest that fits reused", (g) => {
  const role = "test role";
  const before = g.memory.current;
  const wide = scratchTexture(g, role, 1000, 10);
  const tall = scratchTexture(g, role, 10, 1000);
  assert.notEqual(wide, tall);
  assert.deepEqual([wide.width, wide.height, tall.width, tall.height], [1000, 10, 10, 1000]);
  assert.equal(g.memory.current - before, 2 * 1000 * 10 * 16);
  assert.equal(scratchTexture(g, role, 500, 5), wide);
  assert.equal(scratchTexture(g, role, 7, 900), tall);
  const square = scratchTexture(g, role, 64, 64);
  assert.deepEqual([square.width, square.height], [65, 65]);
  assert.equal(scratchTexture(g, role, 9, 9), square, "the smallest of the three that fit");
  assert.equal(g.memory.current - before, 2 * 1000 * 10 * 16 + 65 * 65 * 16);
});
