// Runs a planned scenario: trial after trial, each result appended to the results directory as soon
// as the trial ends. The runner reports progress as events; it never draws anything itself.
import { EventEmitter } from 'node:events';
import type { Platform } from '../platforms/platform.ts';
import type { PlannedTrial } from '../plan/plan.ts';
import type { TrialIdentity, TrialResult } from '../results/trial-result.ts';
import { strategyLabel, type Scenario } from '../scenario/schema.ts';
import { createStrategy } from '../strategies/registry.ts';
import { createWorkload } from '../workloads/registry.ts';
import { computeTrialMetrics, type TrialMetrics } from '../metrics/trial-metrics.ts';
import { probeOptions } from '../probes/probe.ts';
import { runTrial, type Phase } from './trial.ts';

export interface RunnerEvents {
  'trial-start': [trial: PlannedTrial, index: number, total: number];
  'trial-phase': [trial: PlannedTrial, phase: Phase | string];
  'trial-end': [result: TrialResult, metrics: TrialMetrics, index: number, total: number];
}

/** Runs one planned trial on a platform that brings its own trial (kubernetes: kubernetes-trial.ts). */
export type TrialExecutor = (trial: PlannedTrial, identity: TrialIdentity, onPhase: (phase: string) => void) => Promise<TrialResult>;

export type RunOptions = {
  runId: string;
  scenario: Scenario;
  trials: PlannedTrial[];
  signal: AbortSignal;
  /** Receives each finished trial; writes it out before the next trial starts. */
  record: (result: TrialResult, metrics: TrialMetrics) => void;
} & ({ platform: Platform; from: string; to: string } | { execute: TrialExecutor });

export interface RunSummary {
  ok: number;
  failed: number;
  /** Trials of strategies that cannot run on this host (recorded with the reason, not run). */
  unsupported: number;
  /** Trials not run because the run was interrupted. */
  skipped: number;
}

export class Runner extends EventEmitter<RunnerEvents> {
  async run(options: RunOptions): Promise<RunSummary> {
    const { scenario, trials } = options;
    const summary: RunSummary = { ok: 0, failed: 0, unsupported: 0, skipped: 0 };
    // Asked once per strategy, before any trial: a strategy this host cannot run (e.g. pre-copy
    // without dirty-memory tracking) gets its trials recorded as unsupported, with the reason.
    const unsupported = new Map<string, string>();
    if ('platform' in options) {
      for (const trial of trials) {
        const key = JSON.stringify(trial.strategy);
        if (unsupported.has(key)) continue;
        const reason = await createStrategy(trial.strategy).unsupportedReason?.(options.platform);
        unsupported.set(key, reason ?? '');
      }
    }
    for (const [index, trial] of trials.entries()) {
      if (options.signal.aborted) {
        summary.skipped = trials.length - index;
        break;
      }
      this.emit('trial-start', trial, index, trials.length);
      const identity: TrialIdentity = {
        runId: options.runId,
        trial: trial.trial,
        workload: trial.workloadName,
        strategy: strategyLabel(trial.strategy),
        repetition: trial.repetition,
        warmup: trial.warmup,
        ...(trial.sweep ? { sweep: trial.sweep } : {}),
      };
      const onPhase = (phase: string) => this.emit('trial-phase', trial, phase);
      const unsupportedBecause = unsupported.get(JSON.stringify(trial.strategy));
      const result: TrialResult = unsupportedBecause ? unsupportedTrial(identity, unsupportedBecause, scenario.probe.intervalMs) : 'execute' in options ? await options.execute(trial, identity, onPhase) : await runTrial({
        identity,
        platform: options.platform,
        workload: createWorkload(trial.workload),
        strategy: createStrategy(trial.strategy),
        from: options.from,
        to: options.to,
        timing: scenario.timing,
        // A workload's own probe settings win over the scenario's, field by field.
        probe: probeOptions({ ...scenario.probe, ...trial.workload.probe }),
        signal: options.signal,
        onPhase,
      });
      const { metrics, recovered } = computeTrialMetrics(result);
      // A service that never answered again within the observation window did not survive the move.
      if (result.status === 'ok' && !recovered) {
        result.status = 'failed';
        result.failedPhase = 'observe';
        result.error = `service did not recover: no successful probe sample after the outage within timing.observeMs (${scenario.timing.observeMs} ms)`;
      }
      options.record(result, metrics);
      if (result.status === 'ok') summary.ok++;
      else if (result.status === 'unsupported') summary.unsupported++;
      else summary.failed++;
      this.emit('trial-end', result, metrics, index, trials.length);
    }
    return summary;
  }
}

function unsupportedTrial(identity: TrialIdentity, reason: string, probeIntervalMs: number): TrialResult {
  return {
    ...identity, status: 'unsupported', error: `unsupported: ${reason}`, failedPhase: '', startedAt: new Date(),
    timeline: { triggerAt: 0, samples: [], events: [] }, probeIntervalMs,
  };
}
