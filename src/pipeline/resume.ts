/**
 * `--resume`: the check that an interrupted run continues with the options it was started with.
 *
 * @module
 */
import { flagName, OptionsError, type TrainOptions } from "../cli/train_options.ts";
import type { TrainerState } from "../model/checkpoint.ts";

/** Options a resumed run may change: how long it trains and when it stops (and where/whether it resumes). */
const RESUMABLE = new Set(["epochs", "maxSteps", "patience", "resume", "outputDir"]);

/**
 * The options an interrupted run in `lastDir` was started with; throws an {@link OptionsError} listing every
 * other option given differently now, since the resumed run would not continue the same training.
 */
export async function startedWith(lastDir: string, o: TrainOptions): Promise<TrainOptions> {
  const path = `${lastDir}/trainer_state.json`;
  const saved = (JSON.parse(await Deno.readTextFile(path)) as TrainerState).options as Record<
    string,
    unknown
  >;
  const given = o as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(given)])].filter((k) => !RESUMABLE.has(k));
  const problems = keys.filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(given[k])).map((k) =>
    `${flagName(k)}: the run was started with ${JSON.stringify(saved[k]) ?? "nothing"}, got ${
      JSON.stringify(given[k]) ?? "nothing"
    } (only --epochs, --max-steps and --patience may change on --resume; see ${path})`
  );
  if (problems.length) throw new OptionsError("--resume", problems);
  return saved as TrainOptions;
}
