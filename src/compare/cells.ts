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

/** `~` unless the change is significant and beyond its threshold. */
export function verdictCell(m: MetricComparison): string {
  if (m.verdict === 'regression') return `${formatChange(m)} REGRESSION`;
  if (m.verdict === 'improvement') return `${formatChange(m)} improved`;
  return '~';
}

export function trialsCell(t: TrialCounts): string {
  return `failed ${t.baseline.failed}/${t.baseline.ok + t.baseline.failed} → ${t.current.failed}/${t.current.ok + t.current.failed}${t.regression ? ' REGRESSION' : ''}`;
}
