// The parts of the one trial lifecycle (trial.ts) that the platforms' steps use too: the trial's event
// log with its current phase, and the probes' lifecycle — start, stop (also on failure: nothing
// measured is thrown away), verify — with what they recorded; and how a failure reads in trials.csv.
import { sleep, type Clock } from '../clock.ts';
import type { TrainingObservation } from '../metrics/training.ts';
import type { FrameArrival } from '../metrics/video.ts';
import type { MigrationStep } from '../criu/migration-errors.ts';
import type { Probe, ProbeFindings } from '../probes/probe.ts';
import type { TrialResult } from '../results/trial-result.ts';
import type { EventRecorder, PhaseEvent, Sample } from '../timeline.ts';

export type Phase = 'deploy' | 'prepare' | 'settle' | 'migrate' | 'observe' | 'verify' | 'teardown';
/** A step of `migrate` a failed trial names instead (criu/migration-errors.ts): CRIU's dump or restore, kubelet-checkpoint's transfer or image. */
export type FailedStep = MigrationStep;

/** The trial's events, stamped on the monotonic clock as they are emitted, the phase it is in, and its first failure. */
export class TrialLog {
  readonly events: PhaseEvent[] = [];
  readonly recorder: EventRecorder;
  phase: Phase = 'deploy';
  failure: { phase: Phase | FailedStep; error: string } | undefined;
  private readonly onPhase: ((phase: string) => void) | undefined;

  constructor(clock: Clock, onPhase?: (phase: string) => void) {
    this.recorder = { emit: (source, event, detail) => void this.events.push({ at: clock.now(), source, event, ...(detail ? { detail } : {}) }) };
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
  statusFields(): Pick<TrialResult, 'status' | 'error' | 'failedPhase'> {
    return { status: this.failure ? 'failed' : 'ok', error: this.failure?.error ?? '', failedPhase: this.failure?.phase ?? '' };
  }
}

export class ProbeSession {
  readonly samples: Sample[] = [];
  readonly frames: FrameArrival[] = [];
  readonly trainingProgress: TrainingObservation[] = [];
  findings: ProbeFindings = {};
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
      const r = probe.records?.();
      if (r?.frames) this.frames.push(...r.frames);
      if (r?.trainingProgress) this.trainingProgress.push(...r.trainingProgress);
      if (r?.events) this.events.push(...r.events);
    }
  }

  async verify(at: { triggerAt: number; strategyFinishedAt: number }): Promise<void> {
    await this.stop();
    for (const probe of this.probes) {
      if (!probe.verify) continue;
      const found = await probe.verify(at);
      this.findings = { ...this.findings, ...found, metrics: { ...this.findings.metrics, ...found.metrics } };
    }
  }

  /** The TrialResult fields the probes fill. */
  resultFields(): Pick<TrialResult, 'redisAckedWritesLost' | 'workloadMetrics' | 'frames' | 'trainingProgress'> {
    const { findings } = this;
    return {
      ...(findings.redisAckedWritesLost !== undefined ? { redisAckedWritesLost: findings.redisAckedWritesLost } : {}),
      ...(findings.metrics && Object.keys(findings.metrics).length > 0 ? { workloadMetrics: findings.metrics } : {}),
      ...(this.frames.length > 0 ? { frames: this.frames } : {}),
      ...(this.trainingProgress.length > 0 ? { trainingProgress: this.trainingProgress } : {}),
    };
  }
}

/**
 * After a migration failed with the service still (or again) served: keep probing for the
 * observation window, then verify (e.g. Redis' acknowledged writes), as after a migration. Its own
 * failures are recorded as events; the trial's first failure stays the migration's.
 */
export async function observeAfterFailure(recorder: EventRecorder, probes: ProbeSession, observeMs: number, signal: AbortSignal, at: { triggerAt: number; strategyFinishedAt: number }): Promise<void> {
  recorder.emit('trial', 'observe_after_failure', `${observeMs} ms`);
  try {
    await sleep(observeMs, signal);
    await probes.verify(at);
  } catch (err) {
    recorder.emit('trial', 'observe_failed', err instanceof Error ? err.message : String(err));
  }
}

/** A failure in one line for trials.csv (an interrupt says so, whatever error it caused). */
export function describe(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return `interrupted (${String(signal.reason instanceof Error ? signal.reason.message : signal.reason ?? 'aborted')})`;
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 2_000);
}
