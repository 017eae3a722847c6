// The history of nightly runs: one CSV, one row per run × workload × strategy × metric with that
// run's median, appended after each nightly (`migbench compare --history FILE --append-history`). A
// run is summarized by its medians because what drifts from night to night is the run as a whole
// (the host, the kernel, the code), and the medians of earlier runs are the distribution a new run is
// judged against (openshift's disruption gates: against the last weeks' P95/P99, not one baseline).
// Long format, so a new metric or cell is new rows, never a new column.
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { comparableMetricColumns as metricColumns } from '../metrics/trial-metrics.ts';
import { percentile } from '../metrics/percentile.ts';

const historyColumnDocs = {
  run_id: 'the run (its results directory name)',
  started_at: "the run's start, ISO 8601 UTC (run.json startedAt)",
  git_commit: "the code's commit (run.json gitCommit); empty outside git",
  scenario: "the scenario's name: runs of different scenarios are never judged against each other",
  workload: 'workload name',
  strategy: 'strategy name',
  metric: 'a trials.csv metric column',
  n: "the run's ok, measured trials with a value",
  median: "the run's median of the metric over those trials (nearest rank)",
  host_other_cpu_pct: "the run's median host_other_cpu_pct (empty for runs without it): how busy the rest of the host was",
} as const;

const historyColumns = Object.keys(historyColumnDocs) as (keyof typeof historyColumnDocs)[];

export interface HistoryRow {
  runId: string;
  startedAt: string;
  gitCommit: string;
  scenario: string;
  workload: string;
  strategy: string;
  metric: string;
  n: number;
  median: number;
  hostOtherCpuPct?: number;
}

type Row = Record<string, string>;

/** A run's history rows: per workload × strategy × metric with values, its median (ok, measured trials). */
export function summarizeRun(trials: Row[], run: { runId: string; startedAt: string; gitCommit: string; scenario: string }): HistoryRow[] {
  const measured = trials.filter((t) => t.warmup !== 'true' && t.status !== 'unsupported');
  const hostOther = percentile(
    measured
      .map((t) => t.host_other_cpu_pct)
      .filter((v): v is string => v !== undefined && v !== '')
      .map(Number),
    50,
  );
  const ok = measured.filter((t) => t.status === 'ok');
  const cells = [...new Set(ok.map((t) => `${t.workload}\u0000${t.strategy}`))].sort();
  const rows: HistoryRow[] = [];
  for (const cell of cells) {
    const [workload = '', strategy = ''] = cell.split('\u0000');
    const trialsOfCell = ok.filter((t) => t.workload === workload && t.strategy === strategy);
    for (const metric of metricColumns) {
      const values = trialsOfCell
        .map((t) => t[metric])
        .filter((v): v is string => v !== undefined && v !== '')
        .map(Number)
        .filter(Number.isFinite);
      const median = percentile(values, 50);
      if (median === undefined) continue;
      rows.push({ ...run, workload, strategy, metric, n: values.length, median, ...(hostOther !== undefined ? { hostOtherCpuPct: hostOther } : {}) });
    }
  }
  return rows;
}

function historyCsv(rows: HistoryRow[], withHeader: boolean): string {
  const body = rows.map((r) => [r.runId, r.startedAt, r.gitCommit, r.scenario, r.workload, r.strategy, r.metric, r.n, r.median, r.hostOtherCpuPct ?? '']);
  return stringify(withHeader ? [historyColumns, ...body] : body);
}

/** Reads a history file; problems (a file not written by migbench) are returned, one per line, for exit 2. */
export function readHistory(file: string): { rows: HistoryRow[]; problems: string[] } {
  if (!existsSync(file)) return { rows: [], problems: [] };
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') return { rows: [], problems: [] };
  let records: Row[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true }) as Row[];
  } catch (err) {
    return {
      rows: [],
      problems: [
        `${file}: not a history CSV (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); give a file written by \`migbench compare --append-history\``,
      ],
    };
  }
  const header = Object.keys(records[0] ?? {});
  const missing = historyColumns.filter((c) => c !== 'host_other_cpu_pct' && !header.includes(c));
  if (records.length > 0 && missing.length > 0)
    return { rows: [], problems: [`${file}: column(s) ${missing.join(', ')} missing; give a file written by \`migbench compare --append-history\``] };
  const problems: string[] = [];
  const rows: HistoryRow[] = [];
  records.forEach((r, i) => {
    const median = Number(r.median);
    if (r.median === '' || !Number.isFinite(median)) {
      problems.push(`${file}: line ${i + 2}: median ${JSON.stringify(r.median)} is not a number; fix or delete that line`);
      return;
    }
    rows.push({
      runId: r.run_id ?? '',
      startedAt: r.started_at ?? '',
      gitCommit: r.git_commit ?? '',
      scenario: r.scenario ?? '',
      workload: r.workload ?? '',
      strategy: r.strategy ?? '',
      metric: r.metric ?? '',
      n: Number(r.n),
      median,
      ...(r.host_other_cpu_pct ? { hostOtherCpuPct: Number(r.host_other_cpu_pct) } : {}),
    });
  });
  return { rows, problems };
}

/** Appends a run's rows unless the history already has that run (a rerun of the same compare). Returns whether it appended. */
export function appendToHistory(file: string, rows: HistoryRow[]): boolean {
  const existing = readHistory(file).rows;
  if (rows.length === 0 || existing.some((r) => r.runId === rows[0]!.runId)) return false;
  const needsHeader = !existsSync(file) || readFileSync(file, 'utf8').trim() === '';
  appendFileSync(file, historyCsv(rows, needsHeader));
  return true;
}
