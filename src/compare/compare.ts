// Baseline run vs current run, per workload × strategy × metric: medians with 95 % confidence
// intervals, the relative change and a Mann–Whitney p-value. A change is reported only when it is
// both significant (p < α) and larger than the metric's threshold — the rest shows as `~`, so a
// nightly comparison does not cry wolf over noise. Pure: rows in, verdicts out.
import { metricColumns, type MetricColumn } from '../metrics/trial-metrics.ts';
import { percentile } from '../metrics/percentile.ts';
import { mannWhitneyU, minimumAttainableP } from '../stats/mann-whitney.ts';
import { medianConfidenceInterval, type MedianInterval } from '../stats/median-ci.ts';
import { judgeChange, type Threshold } from './thresholds.ts';

/** Columns that describe the set-up rather than the service's cost: nothing to compare. */
const NOT_COMPARED = new Set<MetricColumn>(['samples', 'probe_interval_ms']);

export type Verdict = 'same' | 'regression' | 'improvement';

export interface SideSummary {
  n: number;
  median?: number;
  ci?: MedianInterval;
}

export interface MetricComparison {
  workload: string;
  strategy: string;
  metric: MetricColumn;
  baseline: SideSummary;
  current: SideSummary;
  /** (current − baseline) / baseline of the medians; undefined when the baseline median is 0 or missing. */
  relativeChange?: number;
  absoluteChange?: number;
  p?: number;
  threshold: Threshold;
  verdict: Verdict;
  /** Why this row cannot say much (too few trials, ...). */
  note?: string;
}

export interface TrialCounts {
  workload: string;
  strategy: string;
  baseline: { ok: number; failed: number };
  current: { ok: number; failed: number };
  /** More failed trials than the baseline had: an availability regression whatever the medians say. */
  regression: boolean;
}

export interface Comparison {
  alpha: number;
  metrics: MetricComparison[];
  trials: TrialCounts[];
  warnings: string[];
  regression: boolean;
}

export interface CompareOptions {
  alpha: number;
  thresholds: Map<MetricColumn, Threshold>;
  /** Restrict to these metrics (default: every metric with values on either side). */
  only?: MetricColumn[];
}

type Row = Record<string, string>;

export function compareRuns(baselineRows: Row[], currentRows: Row[], options: CompareOptions): Comparison {
  const group = (rows: Row[]) => {
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      if (r.warmup === 'true') continue;
      const key = `${r.workload}\u0000${r.strategy}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    return groups;
  };
  const base = group(baselineRows);
  const cur = group(currentRows);
  const warnings: string[] = [];
  const metrics: MetricComparison[] = [];
  const trials: TrialCounts[] = [];
  const keys = [...new Set([...base.keys(), ...cur.keys()])].sort();
  for (const key of keys) {
    const [workload = '', strategy = ''] = key.split('\u0000');
    const b = base.get(key);
    const c = cur.get(key);
    if (!b || !c) {
      warnings.push(`${workload} × ${strategy}: only in the ${b ? 'baseline' : 'current'} run; not compared`);
      continue;
    }
    const counts = (rows: Row[]) => ({ ok: rows.filter((r) => r.status === 'ok').length, failed: rows.filter((r) => r.status !== 'ok').length });
    const bc = counts(b);
    const cc = counts(c);
    trials.push({ workload, strategy, baseline: bc, current: cc, regression: cc.failed > 0 && cc.failed / (cc.ok + cc.failed) > bc.failed / (bc.ok + bc.failed) });
    const values = (rows: Row[], m: MetricColumn) =>
      rows.filter((r) => r.status === 'ok' && r[m] !== undefined && r[m] !== '').map((r) => Number(r[m])).filter(Number.isFinite);
    for (const metric of options.only ?? metricColumns) {
      if (NOT_COMPARED.has(metric) && !options.only) continue;
      const x = values(b, metric);
      const y = values(c, metric);
      if (x.length === 0 && y.length === 0) continue;
      metrics.push(compareMetric(workload, strategy, metric, x, y, options));
    }
  }
  const smallest = metrics.filter((m) => m.note).length;
  if (smallest > 0) warnings.push(`${smallest} metric(s) have too few trials for the test to reach p < ${options.alpha}; run more repetitions (see the note column)`);
  return {
    alpha: options.alpha,
    metrics,
    trials,
    warnings,
    regression: metrics.some((m) => m.verdict === 'regression') || trials.some((t) => t.regression),
  };
}

function compareMetric(workload: string, strategy: string, metric: MetricColumn, x: number[], y: number[], options: CompareOptions): MetricComparison {
  const side = (v: number[]): SideSummary => {
    const ci = medianConfidenceInterval(v, 0.95);
    const median = percentile(v, 50);
    return { n: v.length, ...(median !== undefined ? { median } : {}), ...(ci ? { ci } : {}) };
  };
  const threshold = options.thresholds.get(metric)!;
  const result: MetricComparison = { workload, strategy, metric, baseline: side(x), current: side(y), threshold, verdict: 'same' };
  if (x.length === 0 || y.length === 0) {
    result.note = `no values on the ${x.length === 0 ? 'baseline' : 'current'} side`;
    return result;
  }
  const bm = result.baseline.median!;
  const cm = result.current.median!;
  result.absoluteChange = cm - bm;
  if (bm !== 0) result.relativeChange = (cm - bm) / Math.abs(bm);
  const test = mannWhitneyU(y, x);
  result.p = test.p;
  if (minimumAttainableP(x.length, y.length) >= options.alpha) {
    result.note = `n = ${x.length} vs ${y.length}: the test cannot reach p < ${options.alpha} with so few trials`;
  }
  if (test.p < options.alpha) {
    const judged = judgeChange(bm, cm, threshold);
    if (judged === 'worse') result.verdict = 'regression';
    else if (judged === 'better') result.verdict = 'improvement';
  }
  return result;
}
