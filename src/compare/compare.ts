// Baseline run vs current run, per workload × strategy × metric: medians with 95 % confidence
// intervals, the relative change and a Mann–Whitney p-value. Only the gated metrics (the scenario's
// `compare.thresholds`, else DEFAULT_GATE) can fail the comparison: their p-values form one family,
// adjusted with Holm–Bonferroni (src/stats/multiple-testing.ts says why Holm), and a gated metric is
// a regression only when its adjusted p < α AND the change is beyond its threshold. Every other
// metric is still tested and shown, marked not gated — benchstat's `~` for the rest, so a nightly
// comparison does not cry wolf over noise. Pure: rows in, verdicts out.
import { comparableMetricColumns, type MetricColumn } from '../metrics/trial-metrics.ts';
import { percentile } from '../metrics/percentile.ts';
import { mannWhitneyU, minimumAttainableP } from '../stats/mann-whitney.ts';
import { medianConfidenceInterval, type MedianInterval } from '../stats/median-ci.ts';
import { holmAdjust } from '../stats/multiple-testing.ts';
import { judgeChange, type Threshold } from './thresholds.ts';
import { checkDrift, type ArmLoad } from './drift.ts';

/** Columns that describe the set-up rather than the service's cost: nothing to compare. */
const NOT_COMPARED = new Set<MetricColumn>(['samples', 'probe_interval_ms']);

/** `not-gated`: the metric is shown but cannot fail the comparison (see `signal`). */
type Verdict = 'same' | 'regression' | 'improvement' | 'not-gated';

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
  /** Raw two-sided Mann–Whitney p. */
  p?: number;
  /** Gated metrics: p adjusted with Holm over every gated test of the comparison. */
  pAdjusted?: number;
  /** Part of the gate (its verdict can fail the comparison). */
  gated: boolean;
  threshold: Threshold;
  verdict: Verdict;
  /** Not gated: which way it would have gone at the raw, uncorrected p < α and the threshold (information only). */
  signal?: 'worse' | 'better';
  /** Why this row cannot say much (too few trials, ...). */
  note?: string;
  /**
   * Every value on both sides is the same (e.g. 0 writes lost in every trial): the permutation
   * distribution is a single point, so the test can never reject. Such a test is left out of the gated
   * family — counting it would only make Holm stricter for the rest (Tarone 1990's argument for
   * discrete tests, in its simplest case).
   */
  constant?: boolean;
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
  /** Family-wise α of the gate. */
  alpha: number;
  /** How many gated tests the Holm correction was over. */
  gatedTests: number;
  metrics: MetricComparison[];
  trials: TrialCounts[];
  warnings: string[];
  regression: boolean;
  /** The arms' hosts were differently busy beyond the bounds of drift.ts: why the verdict cannot be trusted; empty when they agree. */
  unreliable: string[];
  /** Each arm's median host load (drift.ts). */
  hostLoad: ArmLoad[];
}

export interface CompareOptions {
  alpha: number;
  thresholds: Map<MetricColumn, Threshold>;
  /** Restrict to these metrics (default: every metric with values on either side). */
  only?: MetricColumn[];
  /** The metrics whose verdicts can fail the comparison (default: every compared metric). */
  gated?: ReadonlySet<MetricColumn>;
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
    trials.push({
      workload,
      strategy,
      baseline: bc,
      current: cc,
      regression: cc.failed > 0 && cc.failed / (cc.ok + cc.failed) > bc.failed / (bc.ok + bc.failed),
    });
    const values = (rows: Row[], m: MetricColumn) =>
      rows
        .filter((r) => r.status === 'ok' && r[m] !== undefined && r[m] !== '')
        .map((r) => Number(r[m]))
        .filter(Number.isFinite);
    for (const metric of options.only ?? comparableMetricColumns) {
      if (NOT_COMPARED.has(metric) && !options.only) continue;
      const x = values(b, metric);
      const y = values(c, metric);
      if (x.length === 0 && y.length === 0) continue;
      metrics.push(compareMetric(workload, strategy, metric, x, y, options));
    }
  }
  const gatedTests = applyGate(metrics, options.alpha);
  const drift = checkDrift(baselineRows, currentRows);
  warnings.push(...drift.unreliable.map((u) => `${u}: the verdict is unreliable — rerun both arms in one sitting (compare --rerun) or on a quiet host`));
  if (drift.unchecked.length > 0) warnings.push(`host load not compared: ${drift.unchecked.join(', ')}; drift between the runs could not be checked`);
  const smallest = metrics.filter((m) => m.note).length;
  if (smallest > 0)
    warnings.push(`${smallest} metric(s) have too few trials for the test to reach p < ${options.alpha}; run more repetitions (see the note column)`);
  return {
    alpha: options.alpha,
    gatedTests,
    metrics,
    trials,
    warnings,
    regression: metrics.some((m) => m.verdict === 'regression') || trials.some((t) => t.regression),
    unreliable: drift.unreliable,
    hostLoad: drift.arms,
  };
}

function compareMetric(workload: string, strategy: string, metric: MetricColumn, x: number[], y: number[], options: CompareOptions): MetricComparison {
  const side = (v: number[]): SideSummary => {
    const ci = medianConfidenceInterval(v, 0.95);
    const median = percentile(v, 50);
    return { n: v.length, ...(median !== undefined ? { median } : {}), ...(ci ? { ci } : {}) };
  };
  const threshold = options.thresholds.get(metric)!;
  const gated = options.gated ? options.gated.has(metric) : true;
  const result: MetricComparison = { workload, strategy, metric, baseline: side(x), current: side(y), gated, threshold, verdict: gated ? 'same' : 'not-gated' };
  if (x.length === 0 || y.length === 0) {
    result.note = `no values on the ${x.length === 0 ? 'baseline' : 'current'} side`;
    return result;
  }
  if ([...x, ...y].every((v) => v === x[0])) result.constant = true;
  const bm = result.baseline.median!;
  const cm = result.current.median!;
  result.absoluteChange = cm - bm;
  if (bm !== 0) result.relativeChange = (cm - bm) / Math.abs(bm);
  result.p = mannWhitneyU(y, x).p;
  if (minimumAttainableP(x.length, y.length) >= options.alpha) {
    result.note = `n = ${x.length} vs ${y.length}: the test cannot reach p < ${options.alpha} with so few trials`;
  }
  if (!gated && result.p < options.alpha) {
    const judged = judgeChange(bm, cm, threshold);
    if (judged !== 'within') result.signal = judged;
  }
  return result;
}

/**
 * Holm over the gated tests, then each gated verdict: regression (or improvement) when the adjusted
 * p < α and the change is beyond the threshold. Returns the family's size.
 */
function applyGate(metrics: MetricComparison[], alpha: number): number {
  const family = metrics.filter((m) => m.gated && m.p !== undefined && !m.constant);
  const adjusted = holmAdjust(family.map((m) => m.p!));
  family.forEach((m, i) => {
    m.pAdjusted = adjusted[i]!;
    // Holm's first step compares the smallest p with α/m: with too few trials for that, say so.
    const floor = minimumAttainableP(m.baseline.n, m.current.n) * family.length;
    if (!m.note && floor >= alpha)
      m.note = `n = ${m.baseline.n} vs ${m.current.n} with ${family.length} gated tests: the Holm-adjusted p cannot reach ${alpha} (its floor is ${floor.toPrecision(2)}); run more repetitions or gate fewer metrics`;
    if (m.pAdjusted < alpha) {
      const judged = judgeChange(m.baseline.median!, m.current.median!, m.threshold);
      if (judged === 'worse') m.verdict = 'regression';
      else if (judged === 'better') m.verdict = 'improvement';
    }
  });
  return family.length;
}
