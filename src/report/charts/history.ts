// The history chart: each key metric's median per nightly run over time, one line per workload ×
// strategy, the run this report is about marked (a larger ring and a vertical rule), so a reader sees
// at once whether tonight's figure is inside the usual spread or a step. Data: the history CSV
// (src/history/history.ts) — the report reads it, never the runs themselves.
import type { TopLevelSpec } from 'vega-lite';
import type { HistoryRow } from '../../history/history.ts';
import { renderSvg } from './render.ts';

/** The metrics plotted when the history has them: the default gate's durations. */
const HISTORY_CHART_METRICS = ['downtime_ms', 'migration_ms'] as const;

export interface HistoryChartInput {
  rows: HistoryRow[];
  /** The run the report is about (marked); it may be absent from the history. */
  currentRunId: string;
  /** Only runs of this scenario are plotted. */
  scenario: string;
}

/** One SVG per metric with history for this scenario; empty when the history has none. */
export async function historyChartsSvg(
  input: HistoryChartInput,
  metrics: readonly string[] = HISTORY_CHART_METRICS,
): Promise<{ metric: string; svg: string }[]> {
  const out: { metric: string; svg: string }[] = [];
  const rows = input.rows.filter((r) => r.scenario === input.scenario);
  // Runs in the order they were appended: the x axis is the run's position, labelled by its start.
  const runOrder = [...new Set(rows.map((r) => r.runId))];
  for (const metric of metrics) {
    const values = rows
      .filter((r) => r.metric === metric)
      .map((r) => ({
        run: runOrder.indexOf(r.runId) + 1,
        started: r.startedAt.slice(0, 16).replace('T', ' '),
        cell: `${r.workload} · ${r.strategy}`,
        median: r.median,
        current: r.runId === input.currentRunId,
        description: `${r.runId} (${r.startedAt}), ${r.workload} · ${r.strategy}: median ${metric} ${r.median.toFixed(1)}${r.runId === input.currentRunId ? ' — this run' : ''}`,
      }));
    if (values.length === 0) continue;
    const currentRun = values.find((v) => v.current)?.run;
    const x = { field: 'run', type: 'quantitative', title: 'nightly run (in the order appended)', axis: { tickMinStep: 1, format: 'd' } } as const;
    const y = { field: 'median', type: 'quantitative', title: `median ${metric}`, scale: { zero: false } } as const;
    const color = { field: 'cell', type: 'nominal', title: 'workload · strategy' } as const;
    const spec = {
      width: 760,
      height: 220,
      data: { values },
      layer: [
        ...(currentRun !== undefined
          ? [{ data: { values: [{ run: currentRun }] }, mark: { type: 'rule', color: '#111', strokeDash: [4, 3] }, encoding: { x } }]
          : []),
        { mark: { type: 'line', point: { filled: true, size: 30 } }, encoding: { x, y, color, description: { field: 'description' } } },
        {
          transform: [{ filter: 'datum.current' }],
          mark: { type: 'point', size: 180, strokeWidth: 2.5, filled: false },
          encoding: { x, y, color, description: { field: 'description' } },
        },
      ],
    } as unknown as TopLevelSpec;
    out.push({ metric, svg: await renderSvg(spec) });
  }
  return out;
}
