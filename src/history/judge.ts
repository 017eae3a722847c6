// A run judged against the history of earlier runs (history.ts), per workload × strategy × gated
// metric: is this run's median outside what the last N runs' medians make usual? The spread of run
// medians already holds the night-to-night drift that a single baseline run does not show, which is
// what made one-baseline comparisons cry wolf.
//
// The test, per cell and metric: the history's median m and robust spread s = 1.4826 · MAD of the
// last N run medians (1.4826 makes the MAD estimate a normal distribution's σ; median and MAD, so one
// odd night in the history does not widen the band); z = (current − m) / (s · √(1 + 1/N)) — the
// spread of a new run's median about a median estimated from N of them; two-sided normal p. That p is
// approximate (the spread is estimated from N runs; a t distribution would be wider for small N,
// which is why at least MIN_HISTORY_RUNS are required). As in `compare`, the gated metrics' p-values
// are Holm-adjusted as one family, and a regression needs adjusted p < α and a change beyond the
// metric's threshold, measured from the history's median.
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import type { MetricColumn } from '../metrics/trial-metrics.ts';
import { standardNormalCdf } from '../stats/mann-whitney.ts';
import { holmAdjust } from '../stats/multiple-testing.ts';
import { judgeChange, type Threshold } from '../compare/thresholds.ts';
import type { HistoryRow } from './history.ts';

export const DEFAULT_HISTORY_RUNS = 20;
/** Fewer earlier runs than this: the spread cannot be estimated; the row says so and is not judged. */
export const MIN_HISTORY_RUNS = 3;
/** MAD → σ for normally distributed values. */
const MAD_TO_SIGMA = 1.4826;

export interface HistoryJudgement {
  workload: string;
  strategy: string;
  metric: string;
  current: number;
  /** Earlier runs this cell and metric were judged against (≤ N). */
  runs: number;
  historyMedian?: number;
  /** 1.4826 · MAD of the earlier runs' medians. */
  historySpread?: number;
  historyMin?: number;
  historyMax?: number;
  z?: number;
  p?: number;
  pAdjusted?: number;
  verdict: 'same' | 'regression' | 'improvement';
  note?: string;
}

export interface HistoryComparison {
  alpha: number;
  lastRuns: number;
  rows: HistoryJudgement[];
  regression: boolean;
}

export interface HistoryOptions {
  alpha: number;
  thresholds: Map<MetricColumn, Threshold>;
  gated: ReadonlySet<MetricColumn>;
  /** How many of the latest earlier runs form the distribution. */
  lastRuns: number;
}

/** `current`: this run's rows (history.ts summarizeRun); `history`: every row of the history file. */
export function judgeAgainstHistory(current: HistoryRow[], history: HistoryRow[], options: HistoryOptions): HistoryComparison {
  const rows: HistoryJudgement[] = [];
  for (const row of current) {
    if (!options.gated.has(row.metric as MetricColumn)) continue;
    // Earlier runs of the same scenario and cell, oldest first as appended; the latest N of them.
    const runs = new Map<string, number>();
    for (const h of history) {
      if (h.runId === row.runId || h.scenario !== row.scenario || h.workload !== row.workload || h.strategy !== row.strategy || h.metric !== row.metric)
        continue;
      runs.set(h.runId, h.median);
    }
    const past = [...runs.values()].slice(-options.lastRuns);
    const judged: HistoryJudgement = {
      workload: row.workload,
      strategy: row.strategy,
      metric: row.metric,
      current: row.median,
      runs: past.length,
      verdict: 'same',
    };
    rows.push(judged);
    if (past.length < MIN_HISTORY_RUNS) {
      judged.note = `only ${past.length} earlier run(s) in the history; ${MIN_HISTORY_RUNS} are needed to judge`;
      continue;
    }
    // The middle of the runs (the mean of the two middle ones for an even count, unlike the trials'
    // nearest-rank medians): the history's centre should not jump to one night's value.
    const m = median(past);
    const spread = MAD_TO_SIGMA * medianAbsoluteDeviation(past);
    Object.assign(judged, { historyMedian: m, historySpread: spread, historyMin: Math.min(...past), historyMax: Math.max(...past) });
    const distance = row.median - m;
    // Every earlier run had the same median (e.g. 0 writes lost): any other value is outside it.
    const z = spread > 0 ? distance / (spread * Math.sqrt(1 + 1 / past.length)) : distance === 0 ? 0 : Math.sign(distance) * Infinity;
    judged.z = z;
    judged.p = Number.isFinite(z) ? Math.min(1, 2 * (1 - standardNormalCdf(Math.abs(z)))) : 0;
  }
  const family = rows.filter((r) => r.p !== undefined);
  holmAdjust(family.map((r) => r.p!)).forEach((adjusted, i) => {
    const r = family[i]!;
    r.pAdjusted = adjusted;
    if (adjusted < options.alpha) {
      const judged = judgeChange(r.historyMedian!, r.current, options.thresholds.get(r.metric as MetricColumn)!);
      if (judged === 'worse') r.verdict = 'regression';
      else if (judged === 'better') r.verdict = 'improvement';
    }
  });
  return { alpha: options.alpha, lastRuns: options.lastRuns, rows, regression: rows.some((r) => r.verdict === 'regression') };
}
