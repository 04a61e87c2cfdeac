/**
 * Deterministic train / validation / test assignment and subsampling by a fixed hash of each item's id, so
 * that a data set prepared twice (on any machine) has the same bytes and an item never changes sides when other
 * items are added. Nothing here draws from `Math.random`.
 *
 * @module
 */

/** The three splits of a task. */
export type Split = "train" | "validation" | "test";

/** The splits in file order. */
export const SPLITS: readonly Split[] = ["train", "validation", "test"];

/** Fractions of the held-out splits; the rest is train. */
export interface SplitFractions {
  /** Fraction for validation (default 0.1). */
  validation?: number;
  /** Fraction for test (default 0.1). */
  test?: number;
}

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text`: the fixed hash every split rule uses.
 *
 * @example
 * ```ts
 * import { fnv1a32 } from "./split.ts";
 * console.log(fnv1a32("")); // 2166136261
 * console.log(fnv1a32("a")); // 3826002220
 * ```
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The hash of an id for splitting and ordering: FNV-1a followed by MurmurHash3's 32-bit finaliser, because raw
 * FNV-1a spreads short, similar ids (`id-1`, `id-2`, ...) unevenly over its high bits.
 *
 * @example
 * ```ts
 * import { idHash } from "./split.ts";
 * console.log(idHash("ca01") === idHash("ca01")); // true
 * ```
 */
export function idHash(text: string): number {
  let h = fnv1a32(text);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function fractions(options: SplitFractions): { validation: number; test: number } {
  const validation = options.validation ?? 0.1;
  const test = options.test ?? 0.1;
  if (!(validation >= 0 && test >= 0 && validation + test < 1)) {
    throw new RangeError(`split fractions validation=${validation} test=${test}: need both >= 0, sum < 1`);
  }
  return { validation, test };
}

/**
 * The split of one item by its hash alone: `u = idHash(id) / 2^32`; `u < test` is test, the next
 * `validation` is validation, the rest train.
 *
 * @example
 * ```ts
 * import { hashSplit } from "./split.ts";
 * console.log(hashSplit("easy-ham-1/00001")); // the same answer on every run
 * ```
 */
export function hashSplit(id: string, options: SplitFractions = {}): Split {
  const { validation, test } = fractions(options);
  const u = idHash(id) / 2 ** 32;
  if (u < test) return "test";
  if (u < test + validation) return "validation";
  return "train";
}

/** Items ordered by (`idHash` of key, key): a fixed pseudo-random order. */
export function hashOrder<T>(items: readonly T[], key: (item: T) => string): T[] {
  const keyed = items.map((item) => ({ item, k: key(item), h: idHash(key(item)) }));
  keyed.sort((a, b) => a.h - b.h || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.item);
}

/**
 * Splits ids so that every group (e.g. a Brown genre) is represented in each split: within a group the ids are
 * put in hash order; the first `round(n * test)` go to test, the next `round(n * validation)` to validation
 * (each at least 1 when the group has 3 or more ids), the rest to train.
 *
 * @example
 * ```ts
 * import { stratifiedSplit } from "./split.ts";
 * const s = stratifiedSplit(["a1", "a2", "a3", "b1", "b2", "b3"], (id) => id[0]);
 * console.log(s.get("a1"), s.get("b1"));
 * ```
 */
export function stratifiedSplit(
  ids: readonly string[],
  groupOf: (id: string) => string,
  options: SplitFractions = {},
): Map<string, Split> {
  const { validation, test } = fractions(options);
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const g = groupOf(id);
    groups.set(g, [...(groups.get(g) ?? []), id]);
  }
  const out = new Map<string, Split>();
  for (const members of groups.values()) {
    const n = members.length;
    const atLeast = n >= 3 ? 1 : 0;
    const nTest = Math.max(atLeast, Math.round(n * test));
    const nVal = Math.max(atLeast, Math.round(n * validation));
    hashOrder(members, (id) => id).forEach((id, i) => {
      out.set(id, i < nTest ? "test" : i < nTest + nVal ? "validation" : "train");
    });
  }
  return out;
}

/**
 * At most `n` items chosen by hash order of their key, returned in their original order (a deterministic
 * subsample that keeps documents in reading order).
 */
export function takeByHash<T>(items: readonly T[], key: (item: T, index: number) => string, n: number): T[] {
  if (items.length <= n) return [...items];
  const indexed = items.map((item, index) => ({ index, k: key(item, index) }));
  const chosen = hashOrder(indexed, (x) => x.k).slice(0, n).map((x) => x.index);
  chosen.sort((a, b) => a - b);
  return chosen.map((i) => items[i]);
}
