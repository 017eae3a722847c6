// Runs a planned scenario: trial after trial, each result appended to the results directory as soon
// as the trial ends. The runner reports progress as events; it never draws anything itself.
import { EventEmitter } from 'node:events';
import type { Platform } from '../platforms/platform.ts';
import type { PlannedTrial } from '../plan/plan.ts';
import type { TrialResult } from '../results/trial-result.ts';
import type { Scenario } from '../scenario/schema.ts';
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

export interface RunOptions {
  runId: string;
  scenario: Scenario;
  trials: PlannedTrial[];
  platform: Platform;
  from: string;
  to: string;
  signal: AbortSignal;
  /** Receives each finished trial; writes it out before the next trial starts. */
  record: (result: TrialResult, metrics: TrialMetrics) => void;
}

export interface RunSummary {
  ok: number;
  failed: number;
  /** Trials not run because the run was interrupted. */
  skipped: number;
}

export class Runner extends EventEmitter<RunnerEvents> {
  async run(options: RunOptions): Promise<RunSummary> {
    const { scenario, trials } = options;
    const summary: RunSummary = { ok: 0, failed: 0, skipped: 0 };
    for (const [index, trial] of trials.entries()) {
      if (options.signal.aborted) {
        summary.skipped = trials.length - index;
        break;
      }
      this.emit('trial-start', trial, index, trials.length);
      const result = await runTrial({
        identity: {
          runId: options.runId,
          trial: trial.trial,
          workload: trial.workloadName,
          strategy: trial.strategy.name,
          repetition: trial.repetition,
          warmup: trial.warmup,
        },
        platform: options.platform,
        workload: createWorkload(trial.workload),
        strategy: createStrategy(trial.strategy),
        from: options.from,
        to: options.to,
        timing: scenario.timing,
        // A workload's own probe settings win over the scenario's, field by field.
        probe: probeOptions({ ...scenario.probe, ...trial.workload.probe }),
        signal: options.signal,
        onPhase: (phase) => this.emit('trial-phase', trial, phase),
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
      else summary.failed++;
      this.emit('trial-end', result, metrics, index, trials.length);
    }
    return summary;
  }
}
