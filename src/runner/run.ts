// Runs a planned scenario on one platform: trial after trial through the one trial lifecycle
// (trial.ts), each result handed to `record` (which appends it to the results directory) as soon as
// the trial ends. The runner reports progress as events; it never draws anything itself.
import { EventEmitter } from 'node:events';
import type { PlannedTrial } from '../plan/plan.ts';
import type { RunInfo } from '../results/run-json.ts';
import type { TrialIdentity, TrialResult } from '../model/trial-result.ts';
import { strategyLabel, type Scenario, type StrategyConfig } from '../scenario/schema.ts';
import { createWorkload } from '../workloads/registry.ts';
import type { Workload } from '../workloads/workload.ts';
import type { TrialMetrics } from '../metrics/trial-metrics.ts';
import { probeOptions } from '../probes/probe.ts';
import { judgeTrial, runTrial, type JudgedTrial, type Phase, type TrialSteps } from './trial.ts';
import { hostLoadBetween, sampleHostLoad } from '../system/host-load.ts';
import { runEvacuation, type EvacuationSteps } from './evacuation.ts';

export interface RunnerEvents {
  'trial-start': [trial: PlannedTrial, index: number, total: number];
  'trial-phase': [trial: PlannedTrial, phase: Phase | string];
  'trial-end': [result: TrialResult, metrics: TrialMetrics, index: number, total: number];
}

/** A platform as a run uses it (local-run.ts, kubernetes-run.ts). */
export interface RunPlatform {
  /** Why a strategy cannot run here (e.g. pre-copy without dirty-memory tracking), or undefined if it can. */
  unsupportedReason(strategy: StrategyConfig): Promise<string | undefined>;
  /** The platform's steps of one trial of the workload. */
  trialSteps(trial: PlannedTrial, identity: TrialIdentity, workload: Workload): TrialSteps;
  /** The platform's steps of one evacuation (its pods' trials, in order); absent where evacuations cannot run. */
  evacuationSteps?(trials: PlannedTrial[], workloads: Workload[], identities: TrialIdentity[]): EvacuationSteps;
}

export interface RunOptions {
  runId: string;
  scenario: Scenario;
  trials: PlannedTrial[];
  platform: RunPlatform;
  signal: AbortSignal;
  /** Receives each finished trial; writes it out before the next trial starts. */
  record: (result: TrialResult, metrics: TrialMetrics) => void;
}

export interface RunSummary {
  ok: number;
  failed: number;
  /** Trials of strategies that cannot run on this host (recorded with the reason, not run). */
  unsupported: number;
  /** Trials not run because the run was interrupted. */
  skipped: number;
}

/** Who the trial is, as every row of its results says. */
export function trialIdentity(runId: string, trial: PlannedTrial): TrialIdentity {
  return {
    runId,
    trial: trial.trial,
    workload: trial.workloadName,
    strategy: strategyLabel(trial.strategy),
    repetition: trial.repetition,
    warmup: trial.warmup,
    ...(trial.sweep ? { sweep: trial.sweep } : {}),
    ...(trial.evacuation
      ? {
          evacuation: {
            id: trial.evacuation.id,
            pods: trial.evacuation.pods,
            concurrency: trial.evacuation.concurrency,
            pod: trial.evacuation.pod,
            target: trial.evacuation.target,
          },
        }
      : {}),
  };
}

export class Runner extends EventEmitter<RunnerEvents> {
  async run(options: RunOptions): Promise<RunSummary> {
    const { scenario, trials, platform } = options;
    const summary: RunSummary = { ok: 0, failed: 0, unsupported: 0, skipped: 0 };
    // Asked once per strategy, before any trial: a strategy this host cannot run gets its trials
    // recorded as unsupported, with the reason.
    const unsupported = new Map<string, string>();
    for (const trial of trials) {
      const key = JSON.stringify(trial.strategy);
      if (unsupported.has(key)) continue;
      unsupported.set(key, (await platform.unsupportedReason(trial.strategy)) ?? '');
    }
    const count = (result: TrialResult) => {
      if (result.status === 'ok') summary.ok++;
      else if (result.status === 'unsupported') summary.unsupported++;
      else summary.failed++;
    };
    for (let index = 0; index < trials.length; ) {
      const trial = trials[index]!;
      if (options.signal.aborted) {
        summary.skipped = trials.length - index;
        break;
      }
      const unsupportedBecause = unsupported.get(JSON.stringify(trial.strategy));
      if (trial.evacuation && !unsupportedBecause) {
        // An evacuation's pods are consecutive trials, run together; their rows are recorded once it ended.
        const id = trial.evacuation.id;
        let end = index;
        while (end < trials.length && trials[end]!.evacuation?.id === id) end++;
        const group = trials.slice(index, end);
        group.forEach((t, i) => this.emit('trial-start', t, index + i, trials.length));
        const workloads = group.map((t) => createWorkload(t.workload));
        if (!platform.evacuationSteps) throw new Error('this platform cannot run evacuations (the scenario check should have refused `evacuate:`)');
        // The host's load over the whole evacuation: every pod's row carries it.
        const loadBefore = sampleHostLoad();
        const judged = await runEvacuation({
          pods: group.map((t, i) => ({
            identity: trialIdentity(options.runId, t),
            workload: workloads[i]!,
            probe: probeOptions({ ...scenario.probe, ...t.workload.probe }),
          })),
          concurrency: trial.evacuation.concurrency,
          targets: trial.evacuation.targets,
          steps: platform.evacuationSteps(
            group,
            workloads,
            group.map((t) => trialIdentity(options.runId, t)),
          ),
          timing: scenario.timing,
          signal: options.signal,
          onPhase: (phase: string) => this.emit('trial-phase', trial, phase),
        });
        const hostLoad = hostLoadBetween(loadBefore, sampleHostLoad());
        for (const pod of judged) pod.result.hostLoad = hostLoad;
        for (const [i, { result, metrics }] of judged.entries()) {
          options.record(result, metrics);
          count(result);
          this.emit('trial-end', result, metrics, index + i, trials.length);
        }
        index = end;
        continue;
      }
      this.emit('trial-start', trial, index, trials.length);
      const identity = trialIdentity(options.runId, trial);
      let judged: JudgedTrial;
      if (unsupportedBecause) judged = judgeTrial(unsupportedTrial(identity, unsupportedBecause, scenario.probe.intervalMs), scenario.timing.observeMs);
      else {
        const workload = createWorkload(trial.workload);
        // The host's load over the whole trial (deploy to teardown), for drift checks (compare).
        const loadBefore = sampleHostLoad();
        const ran = await runTrial({
          identity,
          workload,
          steps: platform.trialSteps(trial, identity, workload),
          timing: scenario.timing,
          // A workload's own probe settings win over the scenario's, field by field.
          probe: probeOptions({ ...scenario.probe, ...trial.workload.probe }),
          signal: options.signal,
          onPhase: (phase: string) => this.emit('trial-phase', trial, phase),
        });
        ran.result.hostLoad = hostLoadBetween(loadBefore, sampleHostLoad());
        judged = ran;
      }
      const { result, metrics } = judged;
      options.record(result, metrics);
      count(result);
      this.emit('trial-end', result, metrics, index, trials.length);
      index++;
    }
    return summary;
  }
}

function unsupportedTrial(identity: TrialIdentity, reason: string, probeIntervalMs: number): TrialResult {
  return {
    ...identity,
    status: 'unsupported',
    error: `unsupported: ${reason}`,
    startedAt: new Date(),
    probeIntervalMs,
  };
}

/**
 * A platform made ready for a run: checked (bad input or a missing prerequisite has failed by
 * now, with nothing created), not yet started. local-run.ts and kubernetes-run.ts make one.
 */
export interface PreparedRun {
  /** Versions of every part in the data path, for run.json. */
  versions(): Promise<Record<string, string>>;
  /** run.json's `platform` when it is known before the start (a cluster's nodes and server). */
  platformInfo?: RunInfo['platform'];
  /** What the run's first line says after "N trials" (e.g. " on <server> (namespace ns)"). */
  where: string;
  /** Makes what the run needs on the platform; its `close` removes it again. */
  start(): Promise<StartedRun>;
  /** `--dry-run`: walks the trials printing each call that would change the platform, changing nothing. */
  dryRun?(runId: string, trials: PlannedTrial[]): Promise<void>;
}

export interface StartedRun extends RunPlatform {
  /** run.json's `platform` when it is only known once started (the local nodes' CPUs). */
  platformInfo?: RunInfo['platform'];
  close(): Promise<void>;
}
