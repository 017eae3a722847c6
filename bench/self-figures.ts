// The harness's own figures from a real run's files (pure, so a test can check them on hand-made
// CSVs): how late the probe fired its ticks, how much of a CRIU trial's measured downtime is not
// CRIU's own work, and where each strategy's downtime went (the anat_* columns).
import { parse } from 'csv-parse/sync';
import { percentile } from '../src/metrics/percentile.ts';
import { harnessParts } from '../src/metrics/anatomy.ts';
import { summarizeTrials, whereItWent } from '../src/report/summary.ts';

export interface SendJitter {
  /** Probe samples looked at. */
  samples: number;
  /** sent − scheduled, ms (nearest rank). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Send jitter of the open-loop probes: for every sample in samples.csv, when it was handed to the
 * client library minus when it was due (`send_lag_ms`), over the trials given (all when omitted).
 */
export function sendJitter(samplesCsv: string, trials?: ReadonlySet<string>): SendJitter | undefined {
  const rows = parse(samplesCsv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const lags = rows.filter((r) => (trials === undefined || trials.has(r.trial!)) && r.send_lag_ms !== '').map((r) => Number(r.send_lag_ms));
  if (lags.length === 0) return undefined;
  return { samples: lags.length, p50Ms: percentile(lags, 50)!, p99Ms: percentile(lags, 99)!, maxMs: Math.max(...lags) };
}

export interface CriuOverhead {
  trial: string;
  downtimeMs: number;
  frozenMs: number;
  restoreMs: number;
  /** downtime − (frozen + restore): what the service was down for beyond CRIU's own dump and restore. */
  overheadMs: number;
}

/**
 * Per ok, measured CRIU trial of trials.csv: the probe's downtime_ms minus CRIU's frozen_time and
 * restore_time — the freeze itself, runc's and migbench's steps around CRIU (network namespace, pod
 * bookkeeping, readiness check, service switch) and the probe's resolution.
 */
export function criuOverhead(trialsCsv: string): CriuOverhead[] {
  const rows = parse(trialsCsv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows
    .filter((r) => r.status === 'ok' && r.warmup !== 'true' && r.downtime_ms && r.criu_frozen_ms && r.criu_restore_ms)
    .map((r) => {
      const downtimeMs = Number(r.downtime_ms);
      const frozenMs = Number(r.criu_frozen_ms);
      const restoreMs = Number(r.criu_restore_ms);
      return { trial: r.trial!, downtimeMs, frozenMs, restoreMs, overheadMs: downtimeMs - (frozenMs + restoreMs) };
    });
}

/** Where a CRIU trial's time went, from events.csv (ms; undefined where an event is missing). */
export interface CriuSteps {
  /** runc checkpoint, as the platform saw it: checkpoint_start → checkpoint_done (CRIU's dump inside it). */
  checkpointMs?: number;
  /** checkpoint_done → restore_start: the target pod's network namespace and bundle. */
  betweenMs?: number;
  /** runc restore: restore_start → restore_done (CRIU's restore inside it). */
  restoreMs?: number;
  /** restore_done → the service switched to the restored pod (readiness check, iptables rule). */
  switchMs?: number;
}

/** Per trial of events.csv: the platform's checkpoint, restore and service-switch steps after the trigger. */
export function criuSteps(eventsCsv: string): Map<string, CriuSteps> {
  const rows = parse(eventsCsv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const byTrial = new Map<string, Record<string, string>[]>();
  for (const r of rows) {
    if (Number(r.t_ms) < 0) continue;
    const list = byTrial.get(r.trial!) ?? [];
    list.push(r);
    byTrial.set(r.trial!, list);
  }
  const steps = new Map<string, CriuSteps>();
  for (const [trial, events] of byTrial) {
    const at = (event: string, after = 0) => {
      const e = events.find((r) => r.source?.startsWith('platform:') && r.event === event && Number(r.t_ms) >= after);
      return e === undefined ? undefined : Number(e.t_ms);
    };
    const span = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? undefined : to - from);
    const checkpointStart = at('checkpoint_start');
    if (checkpointStart === undefined) continue;
    const checkpointDone = at('checkpoint_done', checkpointStart);
    const restoreStart = at('restore_start', checkpointDone ?? checkpointStart);
    const restoreDone = at('restore_done', restoreStart ?? checkpointStart);
    const switched = at('service_endpoint', restoreDone ?? checkpointStart);
    steps.set(trial, {
      checkpointMs: span(checkpointStart, checkpointDone),
      betweenMs: span(checkpointDone, restoreStart),
      restoreMs: span(restoreStart, restoreDone),
      switchMs: span(restoreDone, switched),
    });
  }
  return steps;
}

/** The ok, measured trials of trials.csv (their numbers, as samples.csv's `trial` column writes them). */
export function measuredTrials(trialsCsv: string): Set<string> {
  const rows = parse(trialsCsv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return new Set(rows.filter((r) => r.status === 'ok' && r.warmup !== 'true').map((r) => r.trial!));
}

export interface AnatomyMedians {
  workload: string;
  strategy: string;
  /** Median downtime_ms of the group's ok, measured trials. */
  downtimeMs?: number;
  /** "where it went": the anat_* medians in one line, largest first (src/report/summary.ts). */
  whereItWent: string;
  /** The harness's own parts (pod_setup + ready + switch + harness), their medians summed, ms. */
  harnessMs: number;
}

/**
 * Per workload × strategy: where the downtime went (medians of the anat_* columns over the ok,
 * measured trials) and how much of it is the harness's own work between the runtime's and CRIU's
 * steps — the figure the issue asks to keep ≤ 20 ms, so a regression in it shows.
 */
export function anatomyMedians(trialsCsv: string): AnatomyMedians[] {
  return summarizeTrials(trialsCsv).map((r) => ({
    workload: r.workload,
    strategy: r.strategy,
    ...(r.medians.downtime_ms !== undefined ? { downtimeMs: r.medians.downtime_ms } : {}),
    whereItWent: whereItWent(r.anatomyMs),
    harnessMs: harnessParts.reduce((sum, p) => sum + (r.anatomyMs[p] ?? 0), 0),
  }));
}
