// One trial: deploy → load data → probe (settle) → trigger the strategy → observe → verify →
// teardown. Whatever a trial started it tears down in reverse order, also when a phase failed or
// the run was interrupted; a failed trial is a result (status 'failed', its phase and error), never
// an exception that ends the run.
import { sleep, systemClock, type Clock } from '../clock.ts';
import type { Platform, Pod, Service } from '../platforms/platform.ts';
import type { ProbeOptions } from '../probes/probe.ts';
import type { TrialIdentity, TrialResult, CriuStats } from '../results/trial-result.ts';
import type { Strategy } from '../strategies/strategy.ts';
import type { Workload } from '../workloads/workload.ts';
import { trackPods } from './track-pods.ts';
import { ProbeSession, TrialLog, observeAfterFailure, type Phase } from './trial-parts.ts';
import { MigrationStepError } from '../platforms/migration-errors.ts';

export interface TrialTiming {
  settleMs: number;
  observeMs: number;
  readyTimeoutMs: number;
}

export interface TrialSetup {
  identity: TrialIdentity;
  platform: Platform;
  workload: Workload;
  strategy: Strategy;
  from: string;
  to: string;
  timing: TrialTiming;
  probe: ProbeOptions;
  signal: AbortSignal;
  clock?: Clock;
  /** Called with each phase name as the trial enters it (progress display). */
  onPhase?: (phase: string) => void;
}

export type { Phase };

export async function runTrial(setup: TrialSetup): Promise<TrialResult> {
  const clock = setup.clock ?? systemClock;
  const { platform, workload, strategy, signal } = setup;
  const log = new TrialLog(clock, setup.onPhase);
  const { events, recorder } = log;
  const enter = (next: Phase) => log.enter(next);
  const probes = new ProbeSession(events);
  const startedAt = clock.wallNow();

  let triggerAt: number | undefined;
  let strategyFinishedAt: number | undefined;
  let service: Service | undefined;
  const pods: Pod[] = [];
  let criu: CriuStats | undefined;
  let checkpointBytes: number | undefined;
  let datasetBytes: number | undefined;

  try {
    enter('deploy');
    for (const volume of workload.volumes()) await platform.createVolume(volume);
    const pod = await platform.startPod(workload.podSpec(), setup.from, recorder);
    pods.push(pod);
    await workload.waitReady({ host: pod.ip, port: workload.port }, setup.timing.readyTimeoutMs, signal);
    recorder.emit('trial', 'pod_ready', pod.name);
    service = await platform.createService(workload.name, workload.port);
    await platform.setServiceEndpoint(service, pod, recorder);

    enter('prepare');
    datasetBytes = (await workload.prepare(service.address, signal))?.datasetBytes;

    enter('settle');
    await probes.start(workload.probes(service.address, setup.probe));
    await sleep(setup.timing.settleMs, signal);

    enter('migrate');
    // t = 0 of every CSV: the trigger event carries exactly this instant.
    triggerAt = clock.now();
    events.push({ at: triggerAt, source: 'trial', event: 'trigger', detail: `${strategy.name}: ${setup.from} -> ${setup.to}` });
    const strategyPlatform = trackPods(platform, (created) => pods.push(created));
    const outcome = await strategy.migrate({
      platform: strategyPlatform, workload, pod, service, targetNode: setup.to, events: recorder, readyTimeoutMs: setup.timing.readyTimeoutMs, signal,
    });
    strategyFinishedAt = clock.now();
    recorder.emit('trial', 'migrated', outcome.pod.name);
    criu = outcome.criu;
    checkpointBytes = outcome.checkpointBytes;

    enter('observe');
    await sleep(setup.timing.observeMs, signal);

    enter('verify');
    await probes.verify({ triggerAt, strategyFinishedAt });
  } catch (err) {
    log.failPhase(describe(err, signal), err instanceof MigrationStepError ? err.step : undefined);
    // A migration that failed but left the service served (the source kept, or restored back) is
    // observed like one that worked: its samples show the service come back, and how long it took.
    if (err instanceof MigrationStepError && err.serving && triggerAt !== undefined && !signal.aborted) {
      strategyFinishedAt = clock.now();
      await observeAfterFailure(recorder, probes, setup.timing.observeMs, signal, { triggerAt, strategyFinishedAt });
    }
  }

  // Teardown runs whatever happened above; its own failure fails the trial but never hides an earlier one.
  try {
    await probes.stop();
  } catch (err) {
    log.failTeardown(describe(err, signal));
  }
  setup.onPhase?.('teardown');
  const teardownErrors: string[] = [];
  const attempt = async (step: () => Promise<void>) => {
    try {
      await step();
    } catch (err) {
      teardownErrors.push(describe(err, signal));
    }
  };
  if (service) await attempt(() => platform.removeService(service!));
  for (const pod of [...pods].reverse()) await attempt(() => platform.removePod(pod));
  for (const volume of workload.volumes()) await attempt(() => platform.removeVolume(volume));
  if (teardownErrors.length > 0) log.failTeardown(teardownErrors.join('; '));

  return {
    ...setup.identity,
    ...log.statusFields(),
    startedAt,
    // A trial that failed before its trigger has no t = 0; its times are relative to the first event.
    timeline: { triggerAt: triggerAt ?? events[0]?.at ?? 0, samples: probes.samples, events },
    probeIntervalMs: setup.probe.intervalMs,
    ...(strategyFinishedAt !== undefined ? { strategyFinishedAt } : {}),
    ...(criu ? { criu } : {}),
    ...(checkpointBytes !== undefined ? { checkpointBytes } : {}),
    ...(datasetBytes !== undefined ? { datasetBytes } : {}),
    ...probes.resultFields(),
  };
}

/** A failure in one line for trials.csv (an interrupt says so, whatever error it caused). */
export function describe(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return `interrupted (${String(signal.reason instanceof Error ? signal.reason.message : signal.reason ?? 'aborted')})`;
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 2_000);
}
