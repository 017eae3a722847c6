// When a change counts: a threshold per metric, written like `+10%` (relative) or `+50` (in the
// metric's unit). The sign says which way is worse: `+` (the default) for figures where more is
// worse — every metric migbench writes today — and `-` for figures where less is worse.
import { comparableMetricColumns as metricColumns, type MetricColumn } from '../metrics/trial-metrics.ts';

export interface Threshold {
  /** 'increase': a rise beyond the threshold is a regression; 'decrease': a fall is. */
  worse: 'increase' | 'decrease';
  kind: 'relative' | 'absolute';
  /** Fraction for relative (0.1 = 10 %), metric units for absolute. Always ≥ 0. */
  amount: number;
  /** As written, for messages and output. */
  text: string;
}

const DEFAULT_THRESHOLD = '+10%';

/**
 * The gate of a scenario that declares no `compare.thresholds`: the few figures that matter to a
 * service — how long it was down, how long the move took, what it lost (each loss in absolute steps,
 * since 1 → 2 lost frames is +100 %). A loss column without values in a run (another workload's)
 * simply has no test.
 */
export const DEFAULT_GATE: Readonly<Partial<Record<MetricColumn, string>>> = {
  downtime_ms: '+10%',
  migration_ms: '+10%',
  redis_acked_writes_lost: '+5',
  video_frames_lost: '+3',
  training_steps_lost: '+50',
};

/** Parses `+10%`, `10%`, `-5%`, `+50`, `25.5`; undefined if malformed. */
export function parseThreshold(text: string): Threshold | undefined {
  const m = /^\s*([+-]?)(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[2]);
  return {
    worse: m[1] === '-' ? 'decrease' : 'increase',
    kind: m[3] === '%' ? 'relative' : 'absolute',
    amount: m[3] === '%' ? value / 100 : value,
    text: text.trim(),
  };
}

export interface ThresholdProblem {
  entry: string;
  message: string;
}

/**
 * `downtime_ms=+10%` entries (from flags or the scenario) → thresholds per metric; every metric
 * not named gets the default. Problems are collected so all of them can be reported at once.
 */
export function resolveThresholds(
  entries: Record<string, string>,
  defaultText = DEFAULT_THRESHOLD,
): { thresholds: Map<MetricColumn, Threshold>; problems: ThresholdProblem[] } {
  const problems: ThresholdProblem[] = [];
  const fallback = parseThreshold(defaultText);
  if (!fallback) problems.push({ entry: defaultText, message: `default threshold: expected like +10% or +50, found ${JSON.stringify(defaultText)}` });
  const thresholds = new Map<MetricColumn, Threshold>();
  for (const column of metricColumns) if (fallback) thresholds.set(column, fallback);
  for (const [metric, text] of Object.entries(entries)) {
    if (!(metricColumns as string[]).includes(metric)) {
      problems.push({
        entry: `${metric}=${text}`,
        message: `unknown metric ${JSON.stringify(metric)}; expected one of the trials.csv metric columns (${metricColumns.join(', ')})`,
      });
      continue;
    }
    const parsed = parseThreshold(text);
    if (!parsed)
      problems.push({
        entry: `${metric}=${text}`,
        message: `expected a threshold like +10% (relative) or +50 (in the metric's unit), found ${JSON.stringify(text)}`,
      });
    else thresholds.set(metric as MetricColumn, parsed);
  }
  return { thresholds, problems };
}

/**
 * The gate: the metrics the scenario declares in `compare.thresholds` (DEFAULT_GATE when it declares
 * none), plus any named by `--threshold` flags, which also override thresholds. Every other metric
 * keeps the default threshold for display and is not gated.
 */
export function resolveGate(
  declared: Record<string, string> | undefined,
  flags: Record<string, string>,
): { thresholds: Map<MetricColumn, Threshold>; gated: Set<MetricColumn>; problems: ThresholdProblem[] } {
  const base = declared && Object.keys(declared).length > 0 ? declared : (DEFAULT_GATE as Record<string, string>);
  const entries = { ...base, ...flags };
  const { thresholds, problems } = resolveThresholds(entries);
  const gated = new Set(Object.keys(entries).filter((m) => (metricColumns as string[]).includes(m)) as MetricColumn[]);
  return { thresholds, gated, problems };
}

/** Is the change from baseline to current beyond the threshold, and which way? */
export function judgeChange(baseline: number, current: number, t: Threshold): 'worse' | 'better' | 'within' {
  const delta = current - baseline;
  const size = t.kind === 'relative' ? (baseline === 0 ? (delta === 0 ? 0 : Infinity) : Math.abs(delta) / Math.abs(baseline)) : Math.abs(delta);
  if (size <= t.amount) return 'within';
  const rose = delta > 0;
  return rose === (t.worse === 'increase') ? 'worse' : 'better';
}
