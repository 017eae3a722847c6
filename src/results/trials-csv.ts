// trials.csv: one row per trial, identity and outcome first, then every metric column.
import { stringify } from 'csv-stringify/sync';
import type { TrialResult } from './trial-result.ts';
import { metricColumns, type TrialMetrics } from '../metrics/trial-metrics.ts';
import { formatBool, formatMs, formatNumber, formatTimestamp } from './format.ts';

export const trialIdentityColumnDocs = {
  run_id: 'the run this trial belongs to (also the results directory name by default)',
  trial: '1-based position in the run, in execution order (warm-ups included)',
  workload: 'workload name (its `name` in the scenario, else its type)',
  strategy: 'strategy name',
  repetition: '1-based repetition within workload × strategy (warm-ups numbered separately)',
  status: 'ok, or failed (see error and failed_phase); a failed trial still has its samples and events',
  error: 'why the trial failed; empty when ok',
  started_at: 'wall-clock start of the trial, ISO 8601 UTC with milliseconds (a label, not used for durations)',
  warmup: 'true for warm-up trials (excluded from summaries)',
  failed_phase: 'phase the trial failed in: deploy, prepare, settle, migrate, observe, verify, teardown; empty when ok',
} as const;

export const trialsColumns = [...Object.keys(trialIdentityColumnDocs), ...metricColumns];

export function trialsHeader(): string {
  return stringify([trialsColumns]);
}

export function trialRow(result: TrialResult, metrics: TrialMetrics): string {
  const values = metricColumns.map((c) => (c.endsWith('_ms') ? formatMs(metrics[c]) : formatNumber(metrics[c])));
  return stringify([
    [
      result.runId,
      String(result.trial),
      result.workload,
      result.strategy,
      String(result.repetition),
      result.status,
      result.error,
      formatTimestamp(result.startedAt),
      formatBool(result.warmup),
      result.failedPhase,
      ...values,
    ],
  ]);
}
