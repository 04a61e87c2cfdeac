/**
 * The command line of `deno task sweep`: the grid flags (`--p`, `--q`, `--seeds`, `--attributions`,
 * `--layers-grid`, `--output-dir`) and every `train` flag, passed through to each run (validated by the train
 * schema, so a misspelt flag is an error that names it).
 *
 * @module
 */
import type { AttributionMethod } from "../pipeline/attribute.ts";
import type { SweepOptions } from "../pipeline/sweep.ts";
import { loadTrainOptions, OptionsError, type TrainOptionsInput } from "./train_options.ts";

const METHODS = ["grad", "ig", "attention", "random"] as const;
/** Train flags that take no value (`--x` is true, `--no-x` false). */
const SWITCHES = new Set(["skipBadRows", "shuffle", "resume", "adDrop", "crossTuning"]);

/** `--learning-rate` -> `learningRate`. */
function camel(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

function numbers(flag: string, v: string, check: (x: number) => boolean, want: string): number[] {
  const xs = v.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const bad = xs.find((x) => !check(x));
  if (!xs.length || bad !== undefined) {
    throw new OptionsError("command line", [`${flag}: expected ${want}, got ${JSON.stringify(v)}`]);
  }
  return xs;
}

const prob = (x: number) => Number.isFinite(x) && x >= 0 && x <= 1;

/**
 * Parses `deno task sweep` arguments. Grid flags: `--p 0.1,0.3 --q 0.2,0.4` (lists in [0, 1]; default the
 * train defaults 0.3 and 0.2), `--seeds 1,2,3` (default 42), `--attributions grad,attention`,
 * `--layers-grid "0;all"` (layer sets separated by `;`), `--output-dir DIR` (required); `--config FILE` as in
 * train; every other `--flag value` / `--switch` / `--no-switch` goes to each run.
 */
export async function parseSweepArgs(args: readonly string[]): Promise<SweepOptions> {
  const flags: Record<string, unknown> = {};
  const grid: Record<string, string> = {};
  let config: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      throw new OptionsError("command line", [
        `unexpected argument ${JSON.stringify(arg)}: flags start with --`,
      ]);
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = camel(name);
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (inline === undefined && key.startsWith("no") && SWITCHES.has(key[2]?.toLowerCase() + key.slice(3))) {
      flags[key[2].toLowerCase() + key.slice(3)] = false;
      continue;
    }
    if (inline === undefined && SWITCHES.has(key)) {
      flags[key] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || (inline === undefined && value.startsWith("--"))) {
      throw new OptionsError("command line", [`${name}: expected a value`]);
    }
    if (["p", "q", "seeds", "attributions", "layersGrid", "outputDir"].includes(key)) grid[key] = value;
    else if (key === "config") config = value;
    else flags[key] = value;
  }
  if (!grid.outputDir) {
    throw new OptionsError("command line", ["--output-dir: the sweep needs an output folder"]);
  }
  // The shared options (with a file from --config), validated once up front.
  const merged = await loadTrainOptions(flags, config);
  const base: TrainOptionsInput = merged;
  const attributions = grid.attributions?.split(",").map((s) => s.trim()) as AttributionMethod[] | undefined;
  const badMethod = attributions?.find((m) => !(METHODS as readonly string[]).includes(m));
  if (badMethod !== undefined) {
    throw new OptionsError("command line", [
      `--attributions: '${badMethod}' is not one of ${METHODS.join(", ")}`,
    ]);
  }
  const layersGrid = grid.layersGrid?.split(";").map((s): number[] | "all" => {
    const t = s.trim();
    if (t === "all") return "all";
    return numbers(
      "--layers-grid",
      t,
      (x) => Number.isInteger(x) && x >= 0,
      "`all` or layer indices like 0,3",
    );
  });
  return {
    base,
    p: grid.p ? numbers("--p", grid.p, prob, "comma-separated values in [0, 1]") : [merged.p],
    q: grid.q ? numbers("--q", grid.q, prob, "comma-separated values in [0, 1]") : [merged.q],
    seeds: grid.seeds
      ? numbers("--seeds", grid.seeds, (x) => Number.isInteger(x) && x >= 0, "comma-separated integers")
      : [merged.seed],
    ...(attributions ? { attributions } : {}),
    ...(layersGrid ? { layersGrid } : {}),
    outputDir: grid.outputDir,
  };
}
