import assert from "node:assert/strict";
import { pcgHash, randUniform, streamId } from "../../src/reference/random.ts";

Deno.test("pcg hash matches known values and is a bijection on a sample", () => {
  // Values computed by hand from the WGSL formula in u32 arithmetic.
  assert.equal(pcgHash(0), 129708002);
  const seen = new Set<number>();
  for (let i = 0; i < 100000; i++) seen.add(pcgHash(i));
  assert.equal(seen.size, 100000);
});

Deno.test("randUniform is uniform on [0, 1) and depends on seed, stream and index", () => {
  let sum = 0;
  let below = 0;
  const n = 200000;
  for (let i = 0; i < n; i++) {
    const u = randUniform(42, 7, i);
    assert.ok(u >= 0 && u < 1);
    sum += u;
    if (u < 0.3) below++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005, `mean ${sum / n}`);
  assert.ok(Math.abs(below / n - 0.3) < 0.005, `share below 0.3: ${below / n}`);
  assert.notEqual(randUniform(42, 7, 5), randUniform(43, 7, 5));
  assert.notEqual(randUniform(42, 7, 5), randUniform(42, 8, 5));
  assert.equal(randUniform(42, 7, 5), randUniform(42, 7, 5));
  assert.notEqual(streamId(1, 0, 0), streamId(2, 0, 0));
  assert.notEqual(streamId(1, 0, 0), streamId(1, 1, 0));
  assert.notEqual(streamId(1, 0, 0), streamId(1, 0, 1));
});
