// How a CRIU migration failed, as data the trial can act on: which step (the dump, or the restore),
// CRIU's own error line, and whether the service is still served afterwards — by the source that
// kept running (a failed dump) or by the source restored back from the same images (a failed
// restore's fallback). A failed migration that left the service served is observed like a finished
// one, so its samples show the service come back (runner/trial.ts).

import type { MigrationStep } from '../model/trial-result.ts';

export type { MigrationStep };

/** A platform's checkpoint failed; says whether the source is still running (thawed) afterwards. */
export class CheckpointFailure extends Error {
  readonly sourceRunning: boolean;
  constructor(message: string, sourceRunning: boolean) {
    super(message);
    this.sourceRunning = sourceRunning;
  }
}

/** A migration failed in `step`; `serving`: a pod of the workload serves the service again. */
export class MigrationStepError extends Error {
  readonly step: MigrationStep;
  readonly serving: boolean;
  /** Failed restore → fallback pod serving, ms (only when a fallback restored the service). */
  readonly fallbackMs: number | undefined;
  constructor(step: MigrationStep, message: string, serving: boolean, fallbackMs?: number) {
    super(`${step}: ${message}`);
    this.step = step;
    this.serving = serving;
    this.fallbackMs = fallbackMs;
  }
}
