// Exit codes of every migbench command (documented in README.md, "Commands and exit codes").
export const EXIT_OK = 0;
/** The run completed but at least one trial failed (its row says why; everything measured was written). */
export const EXIT_TRIAL_FAILED = 1;
/** Bad input (scenario, flags) or a missing prerequisite; nothing was started. */
export const EXIT_USAGE = 2;
/** `compare`: a metric got significantly worse beyond its threshold, or more trials failed. */
export const EXIT_REGRESSION = 3;
/**
 * `compare`: a regression, but the two runs' hosts were differently busy beyond the drift bounds
 * (src/compare/drift.ts): the verdict is unreliable; rerun both arms in one sitting.
 */
export const EXIT_UNRELIABLE_REGRESSION = 4;
/** Interrupted (Ctrl-C / SIGTERM) after cleaning up; the trials finished so far are written. */
export const EXIT_INTERRUPTED = 130;

/** An error that ends a command with a message and an exit code, without a stack trace. */
export class CommandFailure extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}
