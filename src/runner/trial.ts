// One trial, on any platform: deploy → prepare → settle → trigger the strategy → observe → verify →
// teardown, then the result row. What differs between platforms — pods, volumes and a service on
// this host (local-trial.ts), or API objects and a watch on a cluster (kubernetes-trial.ts) — is
// behind TrialSteps; the lifecycle, its clock, the probes and the failure bookkeeping are here once
// (as k6 runs every executor through one scheduler). Whatever a trial started is torn down, also
// when a phase failed or the run was interrupted; a failed trial is a result (status 'failed', its
// phase and error), never an exception that ends the run. The result comes back judged: its metrics
// computed and its status final (a service that never came back fails the trial).
import { sleep, systemClock, type Clock } from '../clock.ts';
import { computeTrialMetrics, type TrialMetrics } from '../metrics/trial-metrics.ts';
import type { CriuStats } from '../model/criu-stats.ts';
import type { Endpoint } from '../model/endpoint.ts';
import type { FailedTrial, RanTrial, TrialIdentity, TrialResult } from '../model/trial-result.ts';
import type { EventRecorder } from '../model/timeline.ts';
import type { ProbeOptions } from '../probes/probe.ts';
import type { Workload } from '../workloads/workload.ts';
import { END_ON_ANSWER_GRACE_MS, ProbeSession, TrialLog, describe, observeAfterFailure, type Phase } from './trial-parts.ts';
import { MigrationStepError } from '../criu/migration-errors.ts';

export interface TrialTiming {
  settleMs: number;
  observeMs: number;
  readyTimeoutMs: number;
}

/** The workload is running and ready: where probes reach it, and the move the trigger announces. */
export interface Deployed {
  /** The service's address; undefined: there is no app to probe (a simulated cluster's pods). */
  address: Endpoint | undefined;
  from: string;
  to: string;
}

/** What the strategy did: the pod serving at the end (the `migrated` event's detail) and its own figures. */
export interface Moved {
  movedPod: string;
  /** The node the moved pod runs on, where the platform tells (kubernetes: as the scheduler or the strategy placed it). */
  node?: string;
  criu?: CriuStats;
  checkpointBytes?: number;
  /** podmigration: who restored the pod (trials.csv `operator`). */
  operator?: 'test-double' | 'real';
}

/** A platform's part of one trial. */
export interface TrialSteps {
  /** The strategy's name, as the trigger event says it. */
  readonly strategyName: string;
  /** A dry run: nothing is waited for (no time passes where a real trial would sleep). */
  readonly dryRun: boolean;
  /** No app probe runs in any trial of this kind (a simulated cluster): the row says so. */
  readonly probesSkipped: boolean;
  /** Starts the workload (and whatever it needs) on the source node and waits until it is ready. */
  deploy(events: EventRecorder, signal: AbortSignal): Promise<Deployed>;
  /** Runs the strategy: the workload's pod moves to the target node. */
  migrate(events: EventRecorder, signal: AbortSignal): Promise<Moved>;
  /** Removes everything the trial created, newest first; one line per step that failed. */
  teardown(signal: AbortSignal): Promise<string[]>;
}

export interface TrialSetup {
  identity: TrialIdentity;
  workload: Workload;
  steps: TrialSteps;
  timing: TrialTiming;
  probe: ProbeOptions;
  signal: AbortSignal;
  clock?: Clock;
  /** Called with each phase name as the trial enters it (progress display). */
  onPhase?: (phase: string) => void;
}

export type { Phase };

/** A trial's final result and the metrics its trials.csv row carries. */
export interface JudgedTrial<T extends TrialResult = TrialResult> {
  result: T;
  metrics: TrialMetrics;
}

/**
 * Computes a trial's metrics and settles its status: a trial whose service never answered again
 * within the observation window did not survive the move, whatever its steps reported.
 */
export function judgeTrial<T extends TrialResult>(trial: T, observeMs: number): JudgedTrial<T | FailedTrial> {
  const { metrics, recovered, unrecovered } = computeTrialMetrics(trial);
  if (trial.status !== 'ok' || recovered) return { result: trial, metrics };
  const which = unrecovered
    ? ` (probe ${unrecovered.probe}: failing from ${unrecovered.fromMs.toFixed(0)} ms after the trigger, ${unrecovered.failedSamples} samples, first ${unrecovered.error})`
    : '';
  const error =
    `service did not recover: no successful probe sample after the outage within timing.observeMs (${observeMs} ms) ` +
    `and ${END_ON_ANSWER_GRACE_MS} ms more${which}`;
  return { result: { ...trial, status: 'failed', failedPhase: 'observe', error }, metrics };
}

export async function runTrial(setup: TrialSetup): Promise<JudgedTrial<RanTrial>> {
  const clock = setup.clock ?? systemClock;
  const { workload, steps, signal } = setup;
  const log = new TrialLog(clock, setup.onPhase);
  const { events, recorder } = log;
  const enter = (next: Phase) => log.enter(next);
  const probes = new ProbeSession(events);
  const startedAt = clock.wallNow();
  const wait = (ms: number) => (steps.dryRun ? Promise.resolve() : sleep(ms, signal));

  let triggerAt: number | undefined;
  let strategyFinishedAt: number | undefined;
  let address: Endpoint | undefined;
  let moved: Moved | undefined;
  let datasetBytes: number | undefined;

  try {
    enter('deploy');
    const deployed = await steps.deploy(recorder, signal);
    address = deployed.address;

    enter('prepare');
    if (address) datasetBytes = (await workload.prepare(address, signal))?.datasetBytes;

    enter('settle');
    if (address) await probes.start(workload.probes(address, setup.probe));
    await wait(setup.timing.settleMs);

    enter('migrate');
    // t = 0 of every CSV: the trigger event carries exactly this instant.
    triggerAt = clock.now();
    events.push({ at: triggerAt, source: 'trial', event: 'trigger', detail: `${steps.strategyName}: ${deployed.from} -> ${deployed.to}` });
    moved = await steps.migrate(recorder, signal);
    strategyFinishedAt = clock.now();
    recorder.emit('trial', 'migrated', moved.movedPod);

    enter('observe');
    await wait(setup.timing.observeMs);

    enter('verify');
    await probes.verify(signal);
  } catch (err) {
    log.failPhase(describe(err, signal), err instanceof MigrationStepError ? err.step : undefined);
    // A migration that failed but left the service served (the source kept, or restored back) is
    // observed like one that worked: its samples show the service come back, and how long it took.
    if (err instanceof MigrationStepError && err.serving && triggerAt !== undefined && !signal.aborted) {
      strategyFinishedAt = clock.now();
      await observeAfterFailure(recorder, probes, setup.timing.observeMs, signal);
    }
  }

  // Teardown runs whatever happened above; its own failure fails the trial but never hides an earlier one.
  try {
    await probes.stop();
  } catch (err) {
    log.failTeardown(describe(err, signal));
  }
  setup.onPhase?.('teardown');
  const teardownErrors = await steps.teardown(signal);
  if (teardownErrors.length > 0) log.failTeardown(teardownErrors.join('; '));

  const measured = ranTrialResult({
    identity: setup.identity,
    log,
    probes,
    startedAt,
    triggerAt,
    probeIntervalMs: setup.probe.intervalMs,
    probesSkipped: steps.probesSkipped,
    strategyFinishedAt,
    moved,
    datasetBytes,
  });
  return judgeTrial(measured, setup.timing.observeMs);
}

/** What one pod's trial recorded, as its result (before judging): used by runTrial and by each pod of an evacuation. */
export function ranTrialResult(parts: {
  identity: TrialIdentity;
  log: TrialLog;
  probes: ProbeSession;
  startedAt: Date;
  triggerAt: number | undefined;
  probeIntervalMs: number;
  probesSkipped: boolean;
  strategyFinishedAt: number | undefined;
  moved: Moved | undefined;
  datasetBytes: number | undefined;
}): RanTrial {
  const { log, probes, moved, strategyFinishedAt, datasetBytes, triggerAt } = parts;
  const events = log.events;
  return {
    ...parts.identity,
    ...log.outcome(),
    startedAt: parts.startedAt,
    // A trial that failed before its trigger has no t = 0; its times are relative to the first event.
    timeline: { triggerAt: triggerAt ?? events[0]?.at ?? 0, samples: probes.samples, events },
    probeIntervalMs: parts.probeIntervalMs,
    ...(parts.probesSkipped ? { probesSkipped: true } : {}),
    ...(strategyFinishedAt !== undefined ? { strategyFinishedAt } : {}),
    ...(moved?.criu ? { criu: moved.criu } : {}),
    ...(moved?.checkpointBytes !== undefined ? { checkpointBytes: moved.checkpointBytes } : {}),
    ...(moved?.operator ? { operator: moved.operator } : {}),
    ...(datasetBytes !== undefined ? { datasetBytes } : {}),
    ...probes.resultFields(),
  };
}
