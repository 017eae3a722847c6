// The comparison as CSV, one row per workload × strategy × metric, raw numbers (no rounding).
import { stringify } from 'csv-stringify/sync';
import type { Comparison } from './compare.ts';

export const comparisonColumns = [
  'workload',
  'strategy',
  'metric',
  'baseline_n',
  'current_n',
  'baseline_median',
  'baseline_ci_low',
  'baseline_ci_high',
  'current_median',
  'current_ci_low',
  'current_ci_high',
  'relative_change',
  'absolute_change',
  'p_value',
  'alpha',
  'threshold',
  'verdict',
  'note',
  // Added with the gate (appended so earlier columns keep their positions).
  'gated',
  'p_adjusted',
  'signal',
];

const num = (v: number | undefined) => (v === undefined ? '' : String(v));

export function comparisonCsv(c: Comparison): string {
  return stringify([
    comparisonColumns,
    ...c.metrics.map((m) => [
      m.workload,
      m.strategy,
      m.metric,
      m.baseline.n,
      m.current.n,
      num(m.baseline.median),
      num(m.baseline.ci?.lower),
      num(m.baseline.ci?.upper),
      num(m.current.median),
      num(m.current.ci?.lower),
      num(m.current.ci?.upper),
      num(m.relativeChange),
      num(m.absoluteChange),
      num(m.p),
      c.alpha,
      m.threshold.text,
      m.verdict,
      m.note ?? '',
      m.gated ? 'true' : 'false',
      num(m.pAdjusted),
      m.signal ?? '',
    ]),
  ]);
}
