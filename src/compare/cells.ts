// The words and numbers of a comparison, shared by every output format so they never disagree.
import type { MetricComparison, SideSummary, TrialCounts } from './compare.ts';

export function formatValue(metric: string, v: number | undefined): string {
  if (v === undefined) return '—';
  if (metric.endsWith('_ms')) return v.toFixed(1);
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export function formatSide(metric: string, s: SideSummary): string {
  const median = formatValue(metric, s.median);
  return s.ci ? `${median} [${formatValue(metric, s.ci.lower)}, ${formatValue(metric, s.ci.upper)}]` : median;
}

export function formatChange(m: MetricComparison): string {
  if (m.relativeChange !== undefined) return `${m.relativeChange >= 0 ? '+' : '−'}${Math.abs(m.relativeChange * 100).toFixed(1)}%`;
  if (m.absoluteChange !== undefined) return `${m.absoluteChange >= 0 ? '+' : '−'}${formatValue(m.metric, Math.abs(m.absoluteChange))}`;
  return '—';
}

export function formatP(p: number | undefined): string {
  if (p === undefined) return '—';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

/**
 * Gated: `~` unless the change is significant after Holm's correction and beyond its threshold.
 * Not gated: `not gated`, with the direction when the raw (uncorrected) p < α and the change is
 * beyond the threshold — a lead to look at, never a failure.
 */
export function verdictCell(m: MetricComparison): string {
  if (m.verdict === 'regression') return `${formatChange(m)} REGRESSION`;
  if (m.verdict === 'improvement') return `${formatChange(m)} improved`;
  if (m.verdict === 'not-gated') return m.signal ? `not gated (${formatChange(m)} ${m.signal}, uncorrected p < α)` : 'not gated';
  return '~';
}

/** The p-value cell: raw p, and for a gated metric its Holm-adjusted p beside it. */
export function pCell(m: MetricComparison): string {
  if (m.constant) return 'all equal: no test';
  return m.pAdjusted !== undefined ? `${formatP(m.p)} (adj ${formatP(m.pAdjusted)})` : formatP(m.p);
}

/** The footnote every format ends with: what `~` and `not gated` mean, with this comparison's numbers. */
export function legend(c: { alpha: number; gatedTests: number }): string {
  return (
    `~ = no change: Holm-adjusted p ≥ ${c.alpha} over the ${c.gatedTests} gated tests (Mann–Whitney U, two-sided), or within the metric's threshold. ` +
    "Only gated metrics (the scenario's compare.thresholds, else downtime, migration and losses) can fail the comparison; the others are shown, not gated."
  );
}

export function trialsCell(t: TrialCounts): string {
  return `failed ${t.baseline.failed}/${t.baseline.ok + t.baseline.failed} → ${t.current.failed}/${t.current.ok + t.current.failed}${t.regression ? ' REGRESSION' : ''}`;
}
