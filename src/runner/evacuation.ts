// One evacuation: the one trial lifecycle (trial.ts) for many pods at once. Every pod is deployed,
// loaded and probed on the source node; at the trigger (one t = 0 for all) the platform's steps move
// them, at most `concurrency` at a time; after the observation window each pod's probes verify its
// service; the steps tear everything down. Each pod keeps its own event log, probes and result, so
// trials.csv gets a row per pod — and one pod's migration failing is its own failed row (with its
// phase): the others go on, and a failed pod whose source kept serving is observed and verified
// like one that moved. The last pod's result carries the evacuation's figures (evacuations.csv).
import { sleep, systemClock, type Clock } from '../clock.ts';
import { MigrationStepError } from '../criu/migration-errors.ts';
import { summarizeEvacuation } from '../metrics/evacuation.ts';
import { startHarnessCpu } from '../system/harness-cpu.ts';
import type { RanTrial, TrialIdentity } from '../model/trial-result.ts';
import type { EventRecorder } from '../model/timeline.ts';
import type { ProbeOptions } from '../probes/probe.ts';
import type { Workload } from '../workloads/workload.ts';
import { judgeTrial, ranTrialResult, type Deployed, type JudgedTrial, type Moved, type TrialTiming } from './trial.ts';
import { ProbeSession, TrialLog, describe, type Phase } from './trial-parts.ts';

/** A platform's part of an evacuation: the TrialSteps of trial.ts, per pod. */
export interface EvacuationSteps {
  readonly strategyName: string;
  /** No app probe runs (a simulated cluster's pods run no app): the rows say so. */
  readonly probesSkipped?: boolean;
  /** Starts pod `index` (its volumes, pod and service) on the source node and waits until it is ready. */
  deploy(index: number, events: EventRecorder, signal: AbortSignal): Promise<Deployed>;
  /** Once, before the first pod moves (drain: the node is cordoned for the whole evacuation). */
  begin(events: EventRecorder): Promise<void>;
  /** Moves pod `index` with the strategy; pods move concurrently, so this must not touch the others. */
  migrate(index: number, events: EventRecorder, signal: AbortSignal): Promise<Moved>;
  /** Once, after the last pod moved or failed (drain: the node uncordoned). Must not throw. */
  end(events: EventRecorder): Promise<void>;
  /** Removes everything every pod's steps created, newest first; one line per step that failed. */
  teardown(signal: AbortSignal): Promise<string[]>;
}

export interface EvacuationPod {
  identity: TrialIdentity;
  workload: Workload;
  probe: ProbeOptions;
}

export interface EvacuationSetup {
  pods: EvacuationPod[];
  /** At most this many pods move at once. */
  concurrency: number;
  targets: string[];
  steps: EvacuationSteps;
  timing: TrialTiming;
  signal: AbortSignal;
  clock?: Clock;
  onPhase?: (phase: string) => void;
}

/** What one pod of the evacuation has recorded so far. */
interface PodState {
  log: TrialLog;
  probes: ProbeSession;
  address?: Deployed['address'];
  /** The node the deploy step named as this pod's target (empty: the scheduler's choice, known once moved). */
  target?: string;
  datasetBytes?: number;
  moved?: Moved;
  strategyFinishedAt?: number;
  /** Failed, but its service is still (or again) served: observed and verified with the others. */
  servedAfterFailure?: boolean;
}

/** Runs `work` for each index, at most `limit` at once, in index order; resolves when all have ended. */
export async function forEachLimited(count: number, limit: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

export async function runEvacuation(setup: EvacuationSetup): Promise<JudgedTrial<RanTrial>[]> {
  const clock = setup.clock ?? systemClock;
  const { steps, signal } = setup;
  const startedAt = clock.wallNow();
  const harnessCpu = startHarnessCpu();
  const pods: PodState[] = setup.pods.map(() => {
    const log = new TrialLog(clock);
    return { log, probes: new ProbeSession(log.events) };
  });
  // Events of the evacuation as a whole (the source node's cordon) go to every pod's log, at one instant.
  const everyPod: EventRecorder = {
    emit: (source, event, detail) => {
      const at = clock.now();
      for (const p of pods) p.log.events.push({ at, source, event, ...(detail ? { detail } : {}) });
    },
  };
  const active = () => pods.filter((p) => p.log.failure === undefined);
  const enter = (phase: Phase) => {
    for (const p of active()) p.log.enter(phase);
    setup.onPhase?.(phase);
  };
  let triggerAt: number | undefined;
  let begun = false;

  try {
    enter('deploy');
    for (const [i, pod] of pods.entries()) {
      const deployed = await steps.deploy(i, pod.log.recorder, signal);
      pod.address = deployed.address;
      pod.target = deployed.to;
    }
    enter('prepare');
    for (const [i, pod] of pods.entries()) {
      if (pod.address) pod.datasetBytes = (await setup.pods[i]!.workload.prepare(pod.address, signal))?.datasetBytes;
    }
    enter('settle');
    for (const [i, pod] of pods.entries()) {
      if (pod.address) await pod.probes.start(setup.pods[i]!.workload.probes(pod.address, setup.pods[i]!.probe));
    }
    await sleep(setup.timing.settleMs, signal);

    enter('migrate');
    triggerAt = clock.now();
    for (const pod of pods) {
      pod.log.events.push({
        at: triggerAt,
        source: 'trial',
        event: 'trigger',
        detail: `${steps.strategyName}: evacuation of ${pods.length} pods, ${setup.concurrency} at once, to ${setup.targets.join(' ')}`,
      });
    }
    begun = true;
    await steps.begin(everyPod);
    await forEachLimited(pods.length, setup.concurrency, async (i) => {
      const pod = pods[i]!;
      if (signal.aborted) return;
      pod.log.recorder.emit('trial', 'evacuation_pod_start', setup.pods[i]!.identity.evacuation?.pod);
      try {
        pod.moved = await steps.migrate(i, pod.log.recorder, signal);
        pod.strategyFinishedAt = clock.now();
        pod.log.recorder.emit('trial', 'migrated', pod.moved.movedPod);
      } catch (err) {
        pod.log.failPhase(describe(err, signal), err instanceof MigrationStepError ? err.step : undefined);
        if (err instanceof MigrationStepError && err.serving && !signal.aborted) {
          pod.strategyFinishedAt = clock.now();
          pod.servedAfterFailure = true;
        }
      }
    });
    signal.throwIfAborted();

    enter('observe');
    for (const pod of pods.filter((p) => p.servedAfterFailure)) pod.log.recorder.emit('trial', 'observe_after_failure', `${setup.timing.observeMs} ms`);
    await sleep(setup.timing.observeMs, signal);

    enter('verify');
    for (const pod of pods) {
      const verifies = pod.log.failure === undefined || pod.servedAfterFailure;
      if (!verifies) continue;
      try {
        await pod.probes.verify(signal);
      } catch (err) {
        if (pod.servedAfterFailure) pod.log.recorder.emit('trial', 'observe_failed', describe(err, signal));
        else pod.log.failPhase(describe(err, signal));
      }
    }
  } catch (err) {
    // A failure outside one pod's move (a deploy, the settle, Ctrl-C) ends the evacuation for every pod still going.
    for (const pod of active()) pod.log.failPhase(describe(err, signal));
  }

  if (begun) await steps.end(everyPod);
  for (const pod of pods) {
    try {
      await pod.probes.stop();
    } catch (err) {
      pod.log.failTeardown(describe(err, signal));
    }
  }
  setup.onPhase?.('teardown');
  const teardownErrors = await steps.teardown(signal);
  if (teardownErrors.length > 0) for (const pod of pods) pod.log.failTeardown(teardownErrors.join('; '));

  const judged = pods.map((pod, i) =>
    judgeTrial(
      ranTrialResult({
        identity: placedIdentity(setup.pods[i]!.identity, pod.moved?.node ?? (pod.target || undefined)),
        log: pod.log,
        probes: pod.probes,
        startedAt,
        triggerAt,
        probeIntervalMs: setup.pods[i]!.probe.intervalMs,
        probesSkipped: steps.probesSkipped ?? false,
        strategyFinishedAt: pod.strategyFinishedAt,
        moved: pod.moved,
        datasetBytes: pod.datasetBytes,
      }),
      setup.timing.observeMs,
    ),
  );
  // The evacuation's figures ride on its last pod's result (evacuations.csv is written with it).
  const last = judged[judged.length - 1]!;
  const cpu = harnessCpu();
  last.result = {
    ...last.result,
    evacuationSummary: {
      ...summarizeEvacuation(judged, placedTargets(judged, setup.targets)),
      harnessCpuMs: cpu.userMs + cpu.systemMs,
      harnessCpuPercent: cpu.percentOfCore,
    },
  };
  return judged;
}

/** The pod's identity with its evacuation target where it really went (a drain's replacement: where the scheduler put it). */
function placedIdentity(identity: TrialIdentity, node: string | undefined): TrialIdentity {
  if (!node || !identity.evacuation || identity.evacuation.target === node) return identity;
  return { ...identity, evacuation: { ...identity.evacuation, target: node } };
}

/** The evacuation's targets: the planned ones, unless a pod went elsewhere (the scheduler's choice): then where the pods went, in order. */
function placedTargets(judged: readonly JudgedTrial<RanTrial>[], planned: readonly string[]): string[] {
  const placed = [...new Set(judged.map((j) => j.result.evacuation?.target).filter((t): t is string => Boolean(t)))];
  return placed.every((t) => planned.includes(t)) ? [...planned] : placed;
}
