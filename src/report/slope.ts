// How a migration's cost grows with what a sweep varies: per swept workload × strategy, the median
// downtime_ms at each value and two least-squares lines: through every measured trial (each trial
// weighs the same, and r² says how well a line explains them) and through the medians of each value
// (one slow trial — a cold page cache, a busy host — does not tilt it). x is the
// trial's measured data-set size in GiB (dataset_bytes) where every trial of the group has one — so
// the slope reads "ms per GiB actually held in memory" — else the swept value itself.
// Reads trials.csv records, like every analysis (src/report/summary.ts).
import { fitLine, type LineFit } from '../stats/line-fit.ts';
import { percentile } from '../metrics/percentile.ts';
import { textTable } from './text-table.ts';

export { fitLine, type LineFit };

const GIB = 2 ** 30;

export interface SweepFit {
  /** The swept workload's name in the scenario (the instance names without their `-<value>`). */
  workload: string;
  strategy: string;
  /** The trials.csv column of the swept parameter, e.g. sweep_dataset_mib. */
  parameter: string;
  /** Median downtime_ms at each swept value, in ascending order of value. */
  medians: { value: number; downtimeMs: number; trials: number }[];
  /** What x is: 'GiB' (dataset_bytes / 2^30) or the swept column itself. */
  xUnit: string;
  /** downtime_ms against x over every trial; undefined with fewer than two distinct x. */
  fit?: LineFit;
  /** The same through each value's (median x, median downtime_ms). */
  medianFit?: LineFit;
}

/** Groups the ok, measured (non-warm-up) trials of swept workloads and fits each workload × strategy. */
export function sweepFits(records: readonly Record<string, string>[]): SweepFit[] {
  const groups = new Map<string, { workload: string; strategy: string; parameter: string; rows: Record<string, string>[] }>();
  for (const r of records) {
    if (r.warmup === 'true' || r.status !== 'ok' || !r.downtime_ms) continue;
    const parameter = Object.keys(r).find((c) => c.startsWith('sweep_') && r[c] !== '');
    if (parameter === undefined) continue;
    // Sweep instances are named `<workload>-<value>` (src/scenario/sweep.ts); the value has no dash.
    const workload = (r.workload ?? '').replace(/-[^-]+$/, '');
    const key = [workload, r.strategy, parameter].join('\u0000');
    const group = groups.get(key) ?? { workload, strategy: r.strategy ?? '', parameter, rows: [] };
    group.rows.push(r);
    groups.set(key, group);
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...groups.values()]
    .sort((a, b) => byName(a.workload, b.workload) || byName(a.parameter, b.parameter) || byName(a.strategy, b.strategy))
    .map(({ workload, strategy, parameter, rows }) => {
      const values = [...new Set(rows.map((r) => Number(r[parameter])))].sort((a, b) => a - b);
      const measuredSize = rows.every((r) => r.dataset_bytes !== undefined && r.dataset_bytes !== '');
      const x = (r: Record<string, string>) => (measuredSize ? Number(r.dataset_bytes) / GIB : Number(r[parameter]));
      const atValue = values.map((value) => rows.filter((r) => Number(r[parameter]) === value));
      const medians = atValue.map((at, i) => ({
        value: values[i]!,
        downtimeMs: percentile(
          at.map((r) => Number(r.downtime_ms)),
          50,
        )!,
        trials: at.length,
      }));
      const fit = fitLine(rows.map((r) => [x(r), Number(r.downtime_ms)] as const));
      const medianFit = fitLine(atValue.map((at, i) => [percentile(at.map(x), 50)!, medians[i]!.downtimeMs] as const));
      return { workload, strategy, parameter, medians, xUnit: measuredSize ? 'GiB' : parameter, ...(fit ? { fit } : {}), ...(medianFit ? { medianFit } : {}) };
    });
}

export interface SweepTable {
  title: string;
  header: string[];
  body: string[][];
}

/**
 * The sweep as tables, one per swept workload × parameter: a row per strategy with the median
 * downtime at each value, then the slope (ms per x unit), intercept, r² and the trials fitted.
 * None when the run has no sweep. The terminal and the HTML report show the same cells.
 */
export function sweepTables(fits: readonly SweepFit[]): SweepTable[] {
  const tables: SweepTable[] = [];
  const byTable = new Map<string, SweepFit[]>();
  for (const f of fits) {
    const key = `${f.workload}\u0000${f.parameter}`;
    byTable.set(key, [...(byTable.get(key) ?? []), f]);
  }
  for (const group of byTable.values()) {
    const { workload, parameter } = group[0]!;
    const values = [...new Set(group.flatMap((f) => f.medians.map((m) => m.value)))].sort((a, b) => a - b);
    const xUnits = [...new Set(group.map((f) => f.xUnit))];
    const slopeUnit = xUnits.length === 1 && xUnits[0] === 'GiB' ? 'ms/GiB' : `ms per ${xUnits.join('|')}`;
    const header = [
      'strategy',
      ...values.map((v) => `${parameter}=${v}`),
      `slope ${slopeUnit}`,
      'intercept ms',
      'r²',
      'trials',
      `slope of medians ${slopeUnit}`,
    ];
    const body = group.map((f) => [
      f.strategy,
      ...values.map((v) => {
        const m = f.medians.find((x) => x.value === v);
        return m === undefined ? '—' : m.downtimeMs.toFixed(1);
      }),
      f.fit ? f.fit.slope.toFixed(1) : '—',
      f.fit ? f.fit.intercept.toFixed(1) : '—',
      f.fit ? f.fit.rSquared.toFixed(3) : '—',
      String(f.medians.reduce((sum, m) => sum + m.trials, 0)),
      f.medianFit ? f.medianFit.slope.toFixed(1) : '—',
    ]);
    const x = xUnits.includes('GiB') ? 'x = dataset_bytes in GiB' : `x = ${parameter}`;
    tables.push({
      title: `sweep of ${workload} (${parameter}): median downtime_ms per value; least-squares line over every ok trial (slope, intercept, r²) and over the medians, ${x}`,
      header,
      body,
    });
  }
  return tables;
}

/** The sweep tables as text, for the terminal; empty when the run has no sweep. */
export function formatSweepFits(fits: readonly SweepFit[]): string {
  return sweepTables(fits)
    .map((t) => `${t.title}\n${textTable(t.header, t.body)}`)
    .join('\n\n');
}
