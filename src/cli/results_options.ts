/**
 * The command line of `deno task results`: which tasks, configurations and seeds, the per-run budget (one value
 * for every task, or `task=value,...`), the model, the output folder and the report.
 *
 * @module
 */
import { BUDGET_KEYS, type BudgetOverrides, type ExperimentOptions } from "../pipeline/experiment_plan.ts";
import { OptionsError } from "./train_options.ts";

/** `--max-train-samples` -> `maxTrainSamples`. */
function camel(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

const INTEGER_BUDGET = new Set(["maxTrainSamples", "maxEvalSamples", "batchSize", "maxLength"]);

function list(flag: string, v: string): string[] {
  const xs = v.split(",").map((s) => s.trim()).filter(Boolean);
  if (!xs.length) throw new OptionsError("command line", [`${flag}: give at least one value, got '${v}'`]);
  return xs;
}

function budgetValue(flag: string, key: string, v: string): number {
  const x = Number(v);
  const ok = v.trim() !== "" && Number.isFinite(x) && x > 0 &&
    (!INTEGER_BUDGET.has(key) || Number.isInteger(x));
  if (!ok) {
    const want = INTEGER_BUDGET.has(key) ? "an integer >= 1" : "a number > 0";
    throw new OptionsError("command line", [`${flag}: expected ${want} (or task=value,...), got '${v}'`]);
  }
  return x;
}

/** Value flags and switches `deno task results` knows (camelCase). */
const VALUE_FLAGS = new Set([
  "tasks",
  "configs",
  "seeds",
  "igSteps",
  "model",
  "output",
  "doc",
  "skip",
  ...BUDGET_KEYS,
]);
const SWITCHES = new Set(["dryRun", "onlyMissing", "keepCheckpoints"]);

/**
 * Parses `deno task results` arguments: `--tasks a,b`, `--configs plain,grad_L0_ct`, `--seeds 1,2,3`, the budget
 * flags `--max-train-samples --max-eval-samples --epochs --batch-size --max-length --learning-rate` (each `N`
 * for every task or `spam=N,brown_pos=M`), `--ig-steps N`, `--model DIR`, `--output DIR`, `--doc FILE`,
 * `--skip task:config,...` (cells not run; `*` and `prefix*` patterns), `--keep-checkpoints`, `--dry-run`,
 * `--only-missing` (the default: finished runs are always skipped).
 * Configuration and task names are checked by `runExperiments`.
 */
export function parseResultsArgs(args: readonly string[]): ExperimentOptions {
  const o: ExperimentOptions = {};
  const budget: BudgetOverrides = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      throw new OptionsError("command line", [`unexpected argument '${arg}': flags start with --`]);
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = camel(name);
    if (SWITCHES.has(key) && eq < 0) {
      if (key === "dryRun") o.dryRun = true;
      if (key === "keepCheckpoints") o.keepCheckpoints = true;
      continue;
    }
    if (!VALUE_FLAGS.has(key)) {
      throw new OptionsError("command line", [`unknown flag ${name} (see deno task results --help)`]);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) {
      throw new OptionsError("command line", [`${name}: expected a value`]);
    }
    if (key === "tasks") o.tasks = list(name, value);
    else if (key === "configs") o.configs = list(name, value);
    else if (key === "seeds") {
      o.seeds = list(name, value).map((s) => {
        const x = Number(s);
        if (!Number.isInteger(x) || x < 0) {
          throw new OptionsError("command line", [`${name}: '${s}' is not an integer >= 0`]);
        }
        return x;
      });
    } else if (key === "igSteps") o.igSteps = budgetValue(name, "batchSize", value);
    else if (key === "model") o.model = value;
    else if (key === "output") o.output = value;
    else if (key === "doc") o.doc = value;
    else if (key === "skip") o.skip = list(name, value);
    else {
      const k = key as keyof BudgetOverrides;
      if (value.includes("=")) {
        budget[k] = Object.fromEntries(
          list(name, value).map((pair) => {
            const [task, x, ...rest] = pair.split("=");
            if (!task || x === undefined || rest.length) {
              throw new OptionsError("command line", [`${name}: expected task=value, got '${pair}'`]);
            }
            return [task.trim(), budgetValue(name, k, x)];
          }),
        );
      } else budget[k] = budgetValue(name, k, value);
    }
  }
  if (Object.keys(budget).length) o.budget = budget;
  return o;
}
