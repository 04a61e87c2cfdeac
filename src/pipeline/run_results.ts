/**
 * The files a training run ends with: `eval_results.json` (the best epoch's metrics) and `all_results.json`
 * (those as `eval_*`, the run's size and time, and every epoch's metrics), as Hugging Face's Trainer writes
 * them; each to a temporary name, renamed. And the best-epoch bookkeeping both runs (encoders, translation)
 * share.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";
import type { TrainerState } from "../model/checkpoint.ts";

/** Writes the run's result files into `outDir`. */
export async function writeRunResults(
  outDir: string,
  evalResults: Record<string, number>,
  state: TrainerState,
  run: { runtime: number; trainSamples: number; evalSamples: number; metric: string },
): Promise<void> {
  await writeFileAtomic(`${outDir}/eval_results.json`, JSON.stringify(evalResults, null, 2) + "\n");
  await writeFileAtomic(
    `${outDir}/all_results.json`,
    JSON.stringify(
      {
        ...Object.fromEntries(Object.entries(evalResults).map(([k, v]) => [`eval_${k}`, v])),
        train_runtime: run.runtime,
        train_steps: state.step,
        train_samples: run.trainSamples,
        eval_samples: run.evalSamples,
        best_epoch: state.bestEpoch,
        selection_metric: run.metric,
        history: state.history,
      },
      null,
      2,
    ) + "\n",
  );
}

/**
 * Records epoch `epoch` (0-based) with its selection metric `value` (`higher`: larger is better): returns true
 * when it is the best so far, or when `always` (no validation data), and then resets the patience count;
 * otherwise counts one more epoch without improvement.
 */
export function recordEpoch(
  state: TrainerState,
  epoch: number,
  value: number | undefined,
  o: { higher: boolean; always: boolean },
): boolean {
  const better = value !== undefined &&
    (state.bestMetric === null || (o.higher ? value > state.bestMetric : value < state.bestMetric));
  if (!o.always && !better) {
    state.epochsWithoutImprovement++;
    return false;
  }
  state.bestMetric = value ?? null;
  state.bestEpoch = epoch + 1;
  state.epochsWithoutImprovement = 0;
  return true;
}
