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

/** How long probing may go on past the observation window for a probe's newest tick to be answered. */
export const END_ON_ANSWER_GRACE_MS = 1000;

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

  /**
   * The observation window is over, but a probe whose newest tick failed has not been answered
   * since: probing goes on until it is, for at most END_ON_ANSWER_GRACE_MS. Otherwise a service
   * that came back long before would be judged as never recovered because the last tick or two met
   * a hiccup (a 10 ms deadline missed on a busy host: isolated misses, two in a row now and then, in
   * the video health poll; the likely cause of one CI trial in 36 judged "did not recover"). A service
   * still down after the grace is down: its outage reaches the end and fails the
   * trial as before. Any wait is an event (`probes_end_wait`), with the probes waited for.
   */
  async endOnAnswer(signal?: AbortSignal): Promise<void> {
    if (!this.running) return;
    const silent = () => this.probes.filter((p) => p.answering?.() === false);
    const waitedFor = silent().map((p) => p.name);
    if (waitedFor.length === 0) return;
    const started = performance.now();
    while (silent().length > 0 && performance.now() - started < END_ON_ANSWER_GRACE_MS && !signal?.aborted) await sleep(5, signal).catch(() => undefined);
    const still = silent().map((p) => p.name);
    const waited = (performance.now() - started).toFixed(0);
    const detail =
      still.length === 0 ? `${waitedFor.join(', ')} answered again after ${waited} ms` : `${still.join(', ')} still not answering after ${waited} ms`;
    this.events.push({ at: performance.now(), source: 'trial', event: 'probes_end_wait', detail });
  }

  /** After the move: ends probing on an answer, stops the probes and lets each check the service (Redis: its acknowledged writes). */
  async verify(signal?: AbortSignal): Promise<void> {
    await this.endOnAnswer(signal);
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
    await probes.verify(signal);
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
