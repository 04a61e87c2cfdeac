import assert from "node:assert/strict";
import { bucketsLength, embeddingBuckets, positionIds } from "../../src/kernels/embedding_ids.ts";
import { Rng } from "../_util/rng.ts";

Deno.test("positionIds: BERT counts 0..T-1, RoBERTa offsets past padId and gives pads padId", () => {
  const ids = [0, 9, 8, 2, 1, 1, /* row 2 */ 0, 1, 7, 2, 1, 1];
  assert.deepEqual([...positionIds(ids, { B: 2, T: 6 }, { roberta: false, padId: 1 })], [
    0,
    1,
    2,
    3,
    4,
    5,
    0,
    1,
    2,
    3,
    4,
    5,
  ]);
  // Hugging Face create_position_ids_from_input_ids(ids, padding_idx=1): cumsum(mask) * mask + padding_idx.
  assert.deepEqual([...positionIds(ids, { B: 2, T: 6 }, { roberta: true, padId: 1 })], [
    2,
    3,
    4,
    5,
    1,
    1,
    2,
    1,
    3,
    4,
    1,
    1,
  ]);
  assert.throws(() => positionIds([1, 2, 3], { B: 2, T: 2 }, { roberta: false, padId: 0 }), /B\*T/);
});

Deno.test("embeddingBuckets: distinct rows in order, each position once, positions increasing per bucket", () => {
  assert.deepEqual([...embeddingBuckets([7, 3, 7], 10)], [2, 3, 7, 0, 0, 1, 3, 0, 1, 0, 2]);
  const rng = new Rng(3);
  const N = 300;
  const ids = Array.from({ length: N }, () => rng.int(40));
  const b = embeddingBuckets(ids, 40);
  assert.equal(b.length, bucketsLength(N));
  const count = b[0];
  assert.equal(count, new Set(ids).size);
  const rows = b.subarray(1, 1 + N), offsets = b.subarray(1 + N, 2 + 2 * N), pos = b.subarray(2 + 2 * N);
  assert.equal(offsets[0], 0);
  assert.equal(offsets[count], N);
  const seen = new Set<number>();
  for (let k = 0; k < count; k++) {
    if (k > 0) assert.ok(rows[k] > rows[k - 1]);
    for (let j = offsets[k]; j < offsets[k + 1]; j++) {
      assert.equal(ids[pos[j]], rows[k]);
      if (j > offsets[k]) assert.ok(pos[j] > pos[j - 1]);
      seen.add(pos[j]);
    }
  }
  assert.equal(seen.size, N);
  assert.throws(() => embeddingBuckets([1, 40], 40), /id 40 at position 1/);
});
