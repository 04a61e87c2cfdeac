import assert from "node:assert/strict";
import { entitiesDefault, entitiesStrict, seqeval, tokenAccuracy } from "../../src/metrics/seqeval.ts";
import { assertClose } from "../_util/assert_close.ts";

const close = (actual: number, expected: number, name: string) =>
  assertClose([actual], [expected], { atol: 1e-12, rtol: 0, name });
const prf = (r: { precision: number; recall: number; f1: number }) => [r.precision, r.recall, r.f1];

Deno.test("seqeval: a missed entity; per-type scores", () => {
  const r = seqeval([["B-PER", "I-PER", "O", "O"]], [["B-PER", "I-PER", "O", "B-LOC"]]);
  // true {PER 0-1, LOC 3}, predicted {PER 0-1}: P = 1/1, R = 1/2, F1 = 2 * 1 * .5 / 1.5 = 2/3.
  assert.deepEqual(prf(r).slice(0, 2), [1, 0.5]);
  close(r.f1, 2 / 3, "f1");
  assert.deepEqual(r.perType, {
    LOC: { precision: 0, recall: 0, f1: 0, support: 1 },
    PER: { precision: 1, recall: 1, f1: 1, support: 1 },
  });
});

Deno.test("seqeval: IOB1 and IOB2 read alike by default; strict IOB2 ignores IOB1's I- openings", () => {
  const iob1 = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC"];
  const iob2 = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"];
  const ents = [[0, 1, "PER"], [3, 3, "LOC"], [4, 4, "LOC"]];
  assert.deepEqual(entitiesDefault(iob1).map((e) => [e.start, e.end, e.type]), ents);
  assert.deepEqual(entitiesDefault(iob2).map((e) => [e.start, e.end, e.type]), ents);
  assert.deepEqual(prf(seqeval([iob1], [iob2])), [1, 1, 1]);
  // Strict: predictions give only LOC 4 (I- never starts an entity); true has 3 entities.
  // P = 1/1, R = 1/3, F1 = 2 * (1/3) / (4/3) = 1/2.
  const strict = seqeval([iob1], [iob2], { mode: "strict" });
  assert.deepEqual(prf(strict).slice(0, 1), [1]);
  close(strict.recall, 1 / 3, "strict recall");
  close(strict.f1, 1 / 2, "strict f1");
});

Deno.test("seqeval: entities end at the sentence end and never run into the next sentence", () => {
  const preds = [["O", "B-ORG", "I-ORG"], ["I-ORG", "O"]];
  const refs = [["O", "B-ORG", "O"], ["B-ORG", "O"]];
  // predicted {s0 ORG 1-2, s1 ORG 0} (not one ORG spanning both), true {s0 ORG 1, s1 ORG 0}: tp 1,
  // P = 1/2, R = 1/2, F1 = 1/2.
  assert.deepEqual(entitiesDefault(preds[0], 0), [{ sentence: 0, start: 1, end: 2, type: "ORG" }]);
  assert.deepEqual(prf(seqeval(preds, refs)), [0.5, 0.5, 0.5]);
  assert.deepEqual(entitiesStrict(["B-MISC", "I-MISC"]), [{ sentence: 0, start: 0, end: 1, type: "MISC" }]);
});

Deno.test("seqeval: type mismatch B-PER I-LOC, default vs strict", () => {
  const preds = [["B-PER", "I-LOC", "O"]];
  const refs = [["B-PER", "B-LOC", "O"]];
  // Default: I-LOC after PER closes PER 0 and opens LOC 1 -> {PER 0, LOC 1} = true set: P = R = F1 = 1.
  assert.deepEqual(prf(seqeval(preds, refs)), [1, 1, 1]);
  // Strict: PER 0 only (I-LOC cannot open an entity): P = 1/1, R = 1/2, F1 = 2/3; LOC gets 0 0 0.
  const strict = seqeval(preds, refs, { mode: "strict" });
  assert.deepEqual(prf(strict).slice(0, 2), [1, 0.5]);
  close(strict.f1, 2 / 3, "strict f1");
  assert.deepEqual(strict.perType.LOC, { precision: 0, recall: 0, f1: 0, support: 1 });
  // A lone I- run: one PER by default (P = R = 1), nothing in strict mode (P = 0/0 -> 0, R = 0/1).
  assert.deepEqual(prf(seqeval([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])), [1, 1, 1]);
  assert.deepEqual(prf(seqeval([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]], { mode: "strict" })), [
    0,
    0,
    0,
  ]);
  assert.throws(() => seqeval([["E-PER"]], [["O"]], { mode: "strict" }), /tag 'E-PER' in sentence 0/);
});

Deno.test("seqeval: micro average over entities differs from the mean over types", () => {
  const preds = [["B-PER", "O", "B-LOC", "I-LOC", "B-ORG"], ["B-PER"]];
  const refs = [["B-PER", "O", "B-LOC", "O", "B-ORG"], ["B-PER"]];
  // predicted {PER 0, LOC 2-3, ORG 4, s1 PER 0}, true {PER 0, LOC 2, ORG 4, s1 PER 0}: tp 3 of 4 and 4:
  // micro P = R = F1 = 3/4 (the mean of per-type F1 would be (1 + 0 + 1) / 3 = 2/3).
  const r = seqeval(preds, refs);
  assert.deepEqual(prf(r), [0.75, 0.75, 0.75]);
  assert.deepEqual([r.perType.PER.support, r.perType.LOC.f1, r.perType.ORG.f1, r.support], [2, 0, 1, 4]);
  // Token accuracy: 5 of 6 tags equal (item 3 differs).
  close(tokenAccuracy(preds, refs), 5 / 6, "token accuracy");
  assert.throws(() => seqeval([["O"]], [["O", "O"]]), /sentence 0 tags: 1 predictions but 2 references/);
});
