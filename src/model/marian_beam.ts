/**
 * Beam search for Marian models, with the semantics of transformers' `generate(num_beams=K)` (the vectorised
 * beam search of transformers 5, no sampling): each step keeps the 2K best continuations of the K running
 * beams by summed log-probability (log-softmax of the logits, then the bad words and, at the last allowed step,
 * the forced eos as -inf); those of the top K that end in eos (or reach the length limit) join the finished
 * hypotheses with the score sum / length^length_penalty, the best K unfinished ones run on; the search stops
 * when no running beam can beat the worst finished one (`early_stopping=False`'s heuristic: the best running
 * score over the current length) or every continuation is finished. Returns the best finished hypothesis.
 *
 * The K beams of each source run as K rows of one batch (the encoder runs on each copy of its source); each step
 * runs the decoder over the batch's padded length, which grows with the hypotheses (see `generationLength`; no
 * key/value cache), and reads the (rows, V) logits of the current positions back.
 *
 * @module
 */
import { readFloats } from "../gpu/readback.ts";
import { KvDecoder } from "./marian_decode.ts";
import { checkGeneration, type MarianModel, recomputingSteps } from "./marian.ts";

/** Options of {@linkcode beamSearch}. */
export interface BeamOptions {
  maxNewTokens: number;
  numBeams: number;
  /** Exponent of the length normalisation of finished scores (transformers' default 1). */
  lengthPenalty?: number;
}

interface Hypothesis {
  seq: number[];
  score: number;
  finished: boolean;
  /** A running beam: the batch row (source * K + beam) whose hypothesis it extends. */
  parent?: number;
}

/** The logits (rows = sources x K, V) of the next token of every running beam, by the model. */
type NextLogits = (running: Hypothesis[][], curLen: number) => Promise<Float32Array>;

const NEG = -1e9;

/**
 * Beam search over `sources` (token ids, each ending with eos); the ids after the start token per source. Each
 * step recomputes the decoder over the padded length (see {@linkcode beamSearchCached} for the cached one).
 */
export async function beamSearch(m: MarianModel, sources: number[][], o: BeamOptions): Promise<number[][]> {
  const K = o.numBeams;
  checkBeams(K);
  const R = sources.length * K;
  const srcLen = checkGeneration(m, sources, o.maxNewTokens, R);
  const run = recomputingSteps(m, sources, K, srcLen, "beam search");
  return await beamCore(m, sources, o, async (running, curLen) => {
    const prog = await run(
      running.flatMap((beams) => beams.map((h) => h.seq)),
      curLen,
      (p) => p.generateLogits,
    );
    return await readFloats(m.gpu, prog.genLogits);
  });
}

/**
 * {@linkcode beamSearch} with a key/value cache ({@linkcode KvDecoder}): one position per beam and step, each
 * beam's cache rows reordered to its parent's before the step. The same hypotheses up to the order of the
 * attention's sums.
 */
export async function beamSearchCached(
  m: MarianModel,
  sources: number[][],
  o: BeamOptions,
): Promise<number[][]> {
  const K = o.numBeams;
  checkBeams(K);
  const R = sources.length * K;
  const dec = await KvDecoder.create(m, sources, K, o.maxNewTokens);
  try {
    return await beamCore(m, sources, o, async (running) => {
      const tokens = new Uint32Array(R);
      const parents = new Uint32Array(R);
      running.forEach((beams, b) =>
        beams.forEach((h, k) => {
          tokens[b * K + k] = h.seq[h.seq.length - 1];
          parents[b * K + k] = h.parent ?? b * K + k;
        })
      );
      await dec.step(tokens, { parents });
      return await readFloats(m.gpu, dec.logits);
    });
  } finally {
    dec.destroy();
  }
}

function checkBeams(K: number): void {
  if (!(Number.isInteger(K) && K >= 1)) throw new RangeError(`numBeams must be an integer >= 1, got ${K}`);
}

/** The search itself (transformers' rules, see the module doc), the model's logits from `nextLogits`. */
async function beamCore(
  m: MarianModel,
  sources: number[][],
  o: BeamOptions,
  nextLogits: NextLogits,
): Promise<number[][]> {
  const cfg = m.cfg;
  const K = o.numBeams;
  const lp = o.lengthPenalty ?? 1;
  const B = sources.length;
  const eos = cfg.eosTokenId;
  const V = cfg.vocabSize;
  const maxLength = 1 + o.maxNewTokens;
  const running: Hypothesis[][] = sources.map(() =>
    Array.from(
      { length: K },
      (_, k) => ({ seq: [cfg.decoderStartTokenId], score: k === 0 ? 0 : NEG, finished: false }),
    )
  );
  const done: Hypothesis[][] = sources.map(() =>
    Array.from({ length: K }, () => ({ seq: [cfg.decoderStartTokenId], score: NEG, finished: false }))
  );
  const unsatisfied = new Array(B).fill(true);
  for (let curLen = 1;; curLen++) {
    const logits = await nextLogits(running, curLen);
    let allHit = true;
    for (let b = 0; b < B; b++) {
      // Summed log-probabilities of every continuation of every beam, bad words and forced eos at -inf.
      const acc = new Float64Array(K * V);
      for (let k = 0; k < K; k++) {
        const row = logits.subarray((b * K + k) * V, (b * K + k + 1) * V);
        let max = -Infinity;
        for (const x of row) max = Math.max(max, x);
        let sum = 0;
        for (const x of row) sum += Math.exp(x - max);
        const lse = max + Math.log(sum);
        for (let v = 0; v < V; v++) acc[k * V + v] = row[v] - lse + running[b][k].score;
        for (const bad of cfg.badWordIds) acc[k * V + bad] = -Infinity;
        // ForcedEOSTokenLogitsProcessor: at the last allowed step every token but eos is -inf and eos is 0.
        if (cfg.forcedEosTokenId !== null && curLen === maxLength - 1) {
          acc.fill(-Infinity, k * V, (k + 1) * V);
          acc[k * V + cfg.forcedEosTokenId] = running[b][k].score;
        }
      }
      const top = topK(acc, 2 * K);
      const cands = top.map((i, rank) => {
        const tok = i % V;
        return {
          parent: b * K + Math.floor(i / V),
          seq: [...running[b][Math.floor(i / V)].seq, tok],
          score: acc[i],
          hit: tok === eos || curLen + 1 >= maxLength,
          rank,
        };
      });
      if (!cands.every((c) => c.hit)) allHit = false;
      // The best K continuations that are not finished run on.
      const next = [...cands].sort((x, y) => (y.score + (y.hit ? NEG : 0)) - (x.score + (x.hit ? NEG : 0)))
        .slice(0, K);
      running[b] = next.map((c) => ({
        seq: c.seq,
        score: c.score + (c.hit ? NEG : 0),
        finished: false,
        parent: c.parent,
      }));
      // Finished ones among the top K join the hypotheses, length-normalised; the best K hypotheses stay.
      const joined = cands.map((c) => ({
        seq: c.seq,
        score: c.score / curLen ** lp + (unsatisfied[b] ? 0 : NEG) + (c.hit && c.rank < K ? 0 : NEG),
        finished: c.hit && c.rank < K,
      }));
      done[b] = [...done[b], ...joined].sort((x, y) => y.score - x.score).slice(0, K);
    }
    // Whether a running beam could still beat the worst finished hypothesis (scored at the current length).
    for (let b = 0; b < B; b++) {
      const best = running[b][0].score / curLen ** lp;
      const worst = Math.min(...done[b].map((h) => h.score));
      unsatisfied[b] = unsatisfied[b] && done[b].some((h) => best > (h.finished ? worst : NEG));
    }
    if (!unsatisfied.includes(true) || allHit) break;
  }
  return done.map((hs) => hs[0].seq.slice(1));
}

/** Indices of the k largest values, largest first (ties: the lower index first). */
function topK(x: Float64Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (idx.length < k) {
      idx.push(i);
      if (idx.length === k) idx.sort((a, b) => x[b] - x[a] || a - b);
      continue;
    }
    if (x[i] > x[idx[k - 1]]) {
      let j = k - 1;
      while (j > 0 && x[i] > x[idx[j - 1]]) j--;
      idx.splice(j, 0, i);
      idx.pop();
    }
  }
  if (idx.length < k) idx.sort((a, b) => x[b] - x[a] || a - b);
  return idx;
}
