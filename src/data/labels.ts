/**
 * Label spaces: which class gets which output index. A checkpoint's `label2id` wins when it covers every label
 * of the data (so a fine-tuned model keeps its head); otherwise the sorted distinct training labels, numbers
 * sorted as numbers ("2" before "10"). Regression (STS-B, `num_labels` 1) has one float output. A label map
 * renames predicted labels before scoring (HANS: MNLI's `neutral` and `contradiction` are `non-entailment`).
 *
 * @module
 */

/** Classes with ids: `labels[id]` is the label of output `id`. */
export interface ClassificationLabels {
  readonly kind: "classification";
  readonly labels: readonly string[];
  readonly label2id: Readonly<Record<string, number>>;
  /** Where the mapping came from. */
  readonly source: "checkpoint" | "data";
}

/** One float output (regression). */
export interface RegressionLabels {
  readonly kind: "regression";
}

/** A label space. */
export type LabelSpace = ClassificationLabels | RegressionLabels;

/** A renaming of predicted labels applied before scoring. */
export type LabelMap = Readonly<Record<string, string>>;

/** Raised for an unknown label, a label2id that is not a numbering 0..n-1, or a malformed label map. */
export class LabelError extends Error {
  override name = "LabelError";
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Orders labels: numeric-looking ones numerically and first, the rest by code unit. */
export function compareLabels(a: string, b: string): number {
  const na = NUMERIC.test(a);
  const nb = NUMERIC.test(b);
  if (na && nb && Number(a) !== Number(b)) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The distinct labels, sorted by {@link compareLabels}. */
export function sortLabels(labels: Iterable<string>): string[] {
  return [...new Set(labels)].sort(compareLabels);
}

/** Output count of a label space: 1 for regression. */
export function numLabels(space: LabelSpace): number {
  return space.kind === "regression" ? 1 : space.labels.length;
}

/** Options of {@link resolveLabelSpace}. */
export interface LabelSpaceOptions {
  /** The checkpoint's `label2id` (config.json), used when it covers every data label. */
  label2id?: Readonly<Record<string, number>>;
  /** Regression (STS-B, or a checkpoint with `num_labels` 1): one float output. */
  regression?: boolean;
}

/**
 * The label space for training data: the checkpoint's `label2id` when it covers `dataLabels`, else the sorted
 * distinct data labels.
 *
 * @example
 * ```ts
 * import { resolveLabelSpace } from "./labels.ts";
 * const space = resolveLabelSpace(["10", "2", "1", "2"]);
 * console.log(space.kind === "classification" && space.labels); // ["1", "2", "10"]
 * const kept = resolveLabelSpace(["pos"], { label2id: { neg: 0, pos: 1 } });
 * console.log(kept.kind === "classification" && kept.label2id.pos); // 1
 * ```
 */
export function resolveLabelSpace(dataLabels: Iterable<string>, options: LabelSpaceOptions = {}): LabelSpace {
  if (options.regression) return { kind: "regression" };
  const distinct = new Set(dataLabels);
  const ckpt = options.label2id;
  if (ckpt && [...distinct].every((l) => Object.hasOwn(ckpt, l))) {
    return {
      kind: "classification",
      labels: labelsFromLabel2id(ckpt),
      label2id: { ...ckpt },
      source: "checkpoint",
    };
  }
  if (distinct.size === 0) throw new LabelError("no labels in the training data and no checkpoint label2id");
  const labels = sortLabels(distinct);
  return {
    kind: "classification",
    labels,
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    source: "data",
  };
}

/** `labels[id]` from a label2id, which must number its labels 0..n-1 exactly once. */
export function labelsFromLabel2id(label2id: Readonly<Record<string, number>>): string[] {
  const entries = Object.entries(label2id);
  const labels: string[] = new Array(entries.length);
  for (const [label, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || labels[id] !== undefined) {
      throw new LabelError(
        `label2id maps '${label}' to ${id}: ids must be 0..${entries.length - 1}, each used once`,
      );
    }
    labels[id] = label;
  }
  return labels;
}

/** The id of a label; throws a LabelError naming it when it is not in the space. */
export function labelToId(space: ClassificationLabels, label: string): number {
  const id = space.label2id[label];
  if (id === undefined || !Object.hasOwn(space.label2id, label)) {
    throw new LabelError(`unknown label '${label}' (expected one of ${space.labels.join(", ")})`);
  }
  return id;
}

/** The label of an output id. */
export function idToLabel(space: ClassificationLabels, id: number): string {
  const label = space.labels[id];
  if (label === undefined) throw new LabelError(`label id ${id} out of range 0..${space.labels.length - 1}`);
  return label;
}

/**
 * Parses a `--label-map`: a JSON object (`{"neutral":"non-entailment"}`) or `a=b,c=b` pairs.
 *
 * @example
 * ```ts
 * import { applyLabelMap, parseLabelMap } from "./labels.ts";
 * const map = parseLabelMap("neutral=non-entailment,contradiction=non-entailment");
 * console.log(applyLabelMap(["entailment", "neutral"], map)); // ["entailment", "non-entailment"]
 * ```
 */
export function parseLabelMap(spec: string | Readonly<Record<string, unknown>>): LabelMap {
  let obj: unknown = spec;
  if (typeof spec === "string") {
    const text = spec.trim();
    if (text.startsWith("{")) {
      try {
        obj = JSON.parse(text);
      } catch (e) {
        throw new LabelError(`label map '${text}' is not valid JSON: ${(e as Error).message}`);
      }
    } else {
      obj = Object.fromEntries(
        text.split(",").filter((p) => p.trim() !== "").map((pair) => {
          const eq = pair.indexOf("=");
          const [from, to] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
          if (eq < 0 || from === "" || to === "") {
            throw new LabelError(`label map entry '${pair}' is not 'from=to' (in '${text}')`);
          }
          return [from, to];
        }),
      );
    }
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new LabelError(`label map must be an object of label -> label, got ${JSON.stringify(obj)}`);
  }
  for (const [from, to] of Object.entries(obj)) {
    if (typeof to !== "string") throw new LabelError(`label map value of '${from}' is not a string: ${to}`);
  }
  return obj as LabelMap;
}

/** Renames labels through a label map; labels without an entry stay as they are. */
export function applyLabelMap(labels: readonly string[], map: LabelMap): string[] {
  return labels.map((l) => Object.hasOwn(map, l) ? map[l] : l);
}
