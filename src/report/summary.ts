// The end-of-run summary: medians per workload × strategy, read back from trials.csv (like every
// analysis, it reads the files, never the live objects, so it shows exactly what was written).
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { percentile } from '../metrics/percentile.ts';
import { anatomyColumn, anatomyParts, clusterLoopSettings, harnessParts, type AnatomyPart } from '../metrics/anatomy.ts';
import { formatSweepFits, sweepFits } from './slope.ts';
import { formatEvacuationsOf } from './evacuations.ts';
import { textTable } from './text-table.ts';

export interface SummaryRow {
  workload: string;
  strategy: string;
  ok: number;
  failed: number;
  medians: Record<string, number | undefined>;
  /** Median ms of each anat_* column (the part's name without anat_ and _ms); empty when no trial has them. */
  anatomyMs: Partial<Record<AnatomyPart | 'unattributed', number>>;
}

export const SUMMARY_METRICS = [
  'downtime_ms',
  'downtime_upper_ms',
  'migration_ms',
  'criu_frozen_ms',
  'failed_samples',
  'redis_acked_writes_lost',
  'video_max_stall_ms',
  'video_frames_lost',
  'training_pause_ms',
  'training_steps_lost',
] as const;

/** trials.csv as one record per row, keyed by column name (every value a string; '' = empty cell). */
export function parseTrialsCsv(trialsCsv: string): Record<string, string>[] {
  return parse(trialsCsv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}

export function summarizeTrials(trialsCsv: string): SummaryRow[] {
  return summarizeTrialRecords(parseTrialsCsv(trialsCsv));
}

export function summarizeTrialRecords(records: Record<string, string>[]): SummaryRow[] {
  const groups = new Map<string, Record<string, string>[]>();
  for (const r of records) {
    if (r.warmup === 'true') continue;
    const key = `${r.workload}\u0000${r.strategy}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  // Sorted by workload, then strategy (plain code-unit order, as Python sorts the notebook's groups).
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...groups.entries()]
    .sort(([a], [b]) => byName(a, b))
    .map(([key, rows]) => {
      const [workload = '', strategy = ''] = key.split('\u0000');
      const ok = rows.filter((r) => r.status === 'ok');
      const median = (column: string) => {
        const values = ok
          .map((r) => r[column])
          .filter((v): v is string => v !== undefined && v !== '')
          .map(Number);
        return values.length > 0 ? percentile(values, 50) : undefined;
      };
      const medians: SummaryRow['medians'] = {};
      for (const metric of SUMMARY_METRICS) medians[metric] = median(metric);
      const anatomyMs: SummaryRow['anatomyMs'] = {};
      for (const part of [...anatomyParts, 'unattributed' as const]) {
        const m = median(part === 'unattributed' ? 'anat_unattributed_ms' : anatomyColumn(part));
        if (m !== undefined) anatomyMs[part] = m;
      }
      // An unsupported strategy did not fail: its trials never ran (trials.csv says why).
      const failed = rows.filter((r) => r.status !== 'ok' && r.status !== 'unsupported').length;
      return { workload, strategy, ok: ok.length, failed, medians, anatomyMs };
    });
}

export const NO_SUMMARY = 'no measured trials finished (warm-ups are not summarized); see trials.csv';

/** A column that only one workload fills (redis_*, video_*, training_*). */
export const isWorkloadSpecific = (metric: string) => /^(redis|video|training)_/.test(metric);

/**
 * The metrics the summary shows: every general one, and a workload-specific one only when some row
 * has a value in it, so a Redis-only run is not padded with empty video columns.
 */
export function summaryMetrics(rows: SummaryRow[]): (typeof SUMMARY_METRICS)[number][] {
  return SUMMARY_METRICS.filter((m) => !isWorkloadSpecific(m) || rows.some((r) => r.medians[m] !== undefined));
}

/** One median as the summary prints it: ms to 0.1, counts as they are, '—' when no ok trial has a value. */
export function formatMedian(metric: string, value: number | undefined): string {
  return value === undefined ? '—' : metric.endsWith('_ms') ? value.toFixed(1) : String(value);
}

/** The summary as cells (header and one row per group), as the terminal table shows them. */
export function summaryCells(rows: SummaryRow[]): { header: string[]; body: string[][] } {
  const metrics = summaryMetrics(rows);
  const anatomy = rows.some((r) => Object.keys(r.anatomyMs).length > 0);
  const header = ['workload', 'strategy', 'ok', 'failed', ...metrics.map((m) => `median ${m}`), ...(anatomy ? [WHERE_IT_WENT] : [])];
  const body = rows.map((r) => [
    r.workload,
    r.strategy,
    String(r.ok),
    String(r.failed),
    ...metrics.map((m) => formatMedian(m, r.medians[m])),
    ...(anatomy ? [whereItWent(r.anatomyMs)] : []),
  ]);
  return { header, body };
}

const WHERE_IT_WENT = 'where it went (median ms)';

/**
 * The downtime's parts in one line, largest median first ("dump 74.0 · restore 77.0 · …"), parts
 * under 0.05 ms left out, then the harness's own share (its parts' medians summed).
 */
export function whereItWent(anatomyMs: SummaryRow['anatomyMs']): string {
  const parts = Object.entries(anatomyMs)
    .filter(([, ms]) => ms !== undefined && ms >= 0.05)
    .sort(([, a], [, b]) => b! - a!);
  if (parts.length === 0) return Object.keys(anatomyMs).length === 0 ? '—' : 'no downtime';
  const harnessMs = harnessParts.reduce((sum, p) => sum + (anatomyMs[p] ?? 0), 0);
  // On a cluster whose outage was followed loop by loop (kube-proxy's part recorded): the setting it waits on most.
  const loop = (anatomyMs.proxy ?? 0) > 0 ? parts.find(([part]) => clusterLoopSettings[part as AnatomyPart] !== undefined) : undefined;
  const waitsOn = loop ? `; waits most on ${clusterLoopSettings[loop[0] as AnatomyPart]} (${loop[0]})` : '';
  return `${parts.map(([part, ms]) => `${part} ${ms!.toFixed(1)}`).join(' · ')} (harness ${harnessMs.toFixed(1)}${waitsOn})`;
}

export function formatSummary(rows: SummaryRow[]): string {
  if (rows.length === 0) return NO_SUMMARY;
  const { header, body } = summaryCells(rows);
  // "where it went" is text: left-aligned (padded here, as textTable right-aligns all but the first columns).
  if (header.at(-1) === WHERE_IT_WENT) {
    const width = Math.max(WHERE_IT_WENT.length, ...body.map((r) => r.at(-1)!.length));
    header[header.length - 1] = WHERE_IT_WENT.padEnd(width);
    for (const r of body) r[r.length - 1] = r.at(-1)!.padEnd(width);
  }
  return textTable(header, body, 2).replace(/ +$/gm, '');
}

/** The summary table, then — when the run swept a parameter — the sweep's medians and fitted slopes (src/report/slope.ts). */
export function summarizeResultsDir(dir: string): string {
  const records = parseTrialsCsv(readFileSync(`${dir}/trials.csv`, 'utf8'));
  const sweep = formatSweepFits(sweepFits(records));
  const evacuations = formatEvacuationsOf(dir);
  return [formatSummary(summarizeTrialRecords(records)), ...(sweep ? [sweep] : []), ...(evacuations ? [evacuations] : [])].join('\n\n');
}
