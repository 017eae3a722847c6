// The parts of the one trial lifecycle (trial.ts) that the platforms' steps use too: the trial's event
// log with its current phase, and the probes' lifecycle — start, stop (also on failure: nothing
// measured is thrown away), verify — with what they recorded; and how a failure reads in trials.csv.
import { sleep, type Clock } from '../clock.ts';
import type { TrialPhase } from '../model/events.ts';
import type { ProbeRecords, Verification } from '../model/records.ts';
import type { FailedPhase, MigrationStep, TrialRecords } from '../model/trial-result.ts';
import type { EventRecorder, PhaseEvent, Sample } from '../model/timeline.ts';
import type { Probe } from '../probes/probe.ts';

export type Phase = TrialPhase;
/** A step of `migrate` a failed trial names instead (criu/migration-errors.ts): CRIU's dump or restore, kubelet-checkpoint's transfer or image. */
export type FailedStep = MigrationStep;

/** The trial's events, stamped on the monotonic clock as they are emitted, the phase it is in, and its first failure. */
export class TrialLog {
  readonly events: PhaseEvent[] = [];
  readonly recorder: EventRecorder;
  phase: Phase = 'deploy';
  failure: { phase: FailedPhase; error: string } | undefined;
  private readonly onPhase: ((phase: string) => void) | undefined;

  constructor(clock: Clock, onPhase?: (phase: string) => void) {
    this.recorder = {
      emit: (source, event, detail) => void this.events.push({ at: clock.now(), source, event, ...(detail ? { detail } : {}) }),
      emitAt: (at, source, event, detail) => void this.events.push({ at, source, event, ...(detail ? { detail } : {}) }),
    };
    this.onPhase = onPhase;
  }

  enter(next: Phase): void {
    this.phase = next;
    this.recorder.emit('trial', `phase:${next}`);
    this.onPhase?.(next);
  }

  /** The phase the trial is in failed: recorded, and written to the event log. */
  failPhase(error: string, step?: FailedStep): void {
    this.failure = { phase: step ?? this.phase, error };
    this.recorder.emit('trial', 'failed', `${this.phase}: ${error}`);
  }

  /** A teardown step failed: it fails the trial, but never hides an earlier failure. */
  failTeardown(error: string): void {
    this.failure ??= { phase: 'teardown', error };
  }

  /** The TrialResult fields that say how the trial ended. */
  outcome(): { status: 'ok' } | { status: 'failed'; failedPhase: FailedPhase; error: string } {
    return this.failure ? { status: 'failed', failedPhase: this.failure.phase, error: this.failure.error } : { status: 'ok' };
  }
}

export class ProbeSession {
  readonly samples: Sample[] = [];
  readonly records: ProbeRecords[] = [];
  /** Set once every probe has checked the service after the move. */
  verification: Verification | undefined;
  private probes: Probe[] = [];
  private running = false;
  private readonly events: PhaseEvent[];

  /** The probes' own events (stream breaks) go to `events`. */
  constructor(events: PhaseEvent[]) {
    this.events = events;
  }

  async start(probes: Probe[]): Promise<void> {
    this.probes = probes;
    this.running = true;
    for (const probe of probes) await probe.start();
  }

  /** Stops every probe and keeps what it recorded; a no-op once stopped (or never started). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const probe of this.probes) {
      this.samples.push(...(await probe.stop()));
      const records = probe.records?.();
      if (records) this.records.push(records);
      this.events.push(...(probe.events?.() ?? []));
    }
  }

  /** After the move: stops the probes and lets each check the service (Redis: its acknowledged writes). */
  async verify(): Promise<void> {
    await this.stop();
    let verification: Verification = {};
    for (const probe of this.probes) {
      if (probe.verify) verification = { ...verification, ...(await probe.verify()) };
    }
    this.verification = verification;
  }

  /** The TrialResult fields the probes fill. */
  resultFields(): Pick<TrialRecords, 'probeRecords' | 'verification'> {
    return { probeRecords: this.records, ...(this.verification ? { verification: this.verification } : {}) };
  }
}

/**
 * After a migration failed with the service still (or again) served: keep probing for the
 * observation window, then verify (e.g. Redis' acknowledged writes), as after a migration. Its own
 * failures are recorded as events; the trial's first failure stays the migration's.
 */
export async function observeAfterFailure(recorder: EventRecorder, probes: ProbeSession, observeMs: number, signal: AbortSignal): Promise<void> {
  recorder.emit('trial', 'observe_after_failure', `${observeMs} ms`);
  try {
    await sleep(observeMs, signal);
    await probes.verify();
  } catch (err) {
    recorder.emit('trial', 'observe_failed', err instanceof Error ? err.message : String(err));
  }
}

/** A failure in one line for trials.csv (an interrupt says so, whatever error it caused). */
export function describe(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return `interrupted (${String(signal.reason instanceof Error ? signal.reason.message : (signal.reason ?? 'aborted'))})`;
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 2_000);
}
