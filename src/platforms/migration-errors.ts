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

/**
 * CRIU's own explanation in its log: the first `Error (file:line): …` line that says why, else ''.
 * The first, because what follows is consequence ("Can't dump page with parasite", "Dumping
 * FAILED."); CRIU's complaint that it cannot raise its own RLIMIT_NOFILE under runc is in every log
 * and never the cause.
 */
export function criuErrorLine(logText: string): string {
  const noise = /RLIMIT_NOFILE|(Dumping|Restoring) FAILED/;
  const errors = logText.split('\n').filter((l) => /Error \(/.test(l));
  const line = errors.find((l) => !noise.test(l)) ?? errors.find((l) => /FAILED/.test(l)) ?? '';
  // Drop the "(00.123456) " timestamp and pid prefix CRIU puts before each line.
  return line.replace(/^\(\s*[\d.]+\)\s*(\d+:\s*)?/, '').trim();
}
