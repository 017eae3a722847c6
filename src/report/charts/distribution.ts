// Distribution of one trials.csv metric per workload × strategy: a box (min–max whiskers) over the
// ok trials, every trial as a point on it, failed trials as red crosses (✚) (not in the box, as the
// summary's medians leave them out). Warm-ups are not given to this chart.
import type { TopLevelSpec } from 'vega-lite';
import { COLORS, renderSvg } from './render.ts';

export interface DistributionPoint {
  /** "workload · strategy". */
  group: string;
  value: number;
  status: 'ok' | 'failed';
  trial: number;
  repetition: number;
}

/** Deterministic jitter in [-1, 1] so points of equal value do not hide each other. */
const jitter = (trial: number) => ((((trial * 2654435761) >>> 0) % 1000) / 1000) * 2 - 1;

const STEP = 44;

export async function distributionSvg(metric: string, points: DistributionPoint[], groups: string[]): Promise<string> {
  const values = points.map((p) => ({
    ...p,
    jitter: jitter(p.trial),
    description: `${p.group}, trial ${p.trial} (rep ${p.repetition}), ${p.status}: ${metric} ${p.value.toFixed(1)}`,
  }));
  // No band padding, so a band's centre (where the box is drawn) is STEP / 2 below its start, which is where yOffset counts from.
  const y = {
    field: 'group',
    type: 'nominal',
    sort: groups,
    scale: { domain: groups, paddingInner: 0, paddingOuter: 0 },
    title: null,
    axis: { labelLimit: 240 },
  } as const;
  const x = { field: 'value', type: 'quantitative', title: metric, scale: { zero: true } } as const;
  const spec = {
    width: 760,
    height: { step: STEP },
    data: { values },
    layer: [
      {
        transform: [{ filter: "datum.status === 'ok'" }],
        mark: { type: 'boxplot', extent: 'min-max', size: 22, color: '#b8cfe6', median: { color: '#1f3b5a', strokeWidth: 2 }, rule: { color: '#555' } },
        encoding: { x, y },
      },
      {
        mark: { type: 'point', filled: true, size: 46, opacity: 0.85, strokeWidth: 1.5 },
        encoding: {
          x,
          y,
          yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-1, 1], range: [STEP / 2 - 7, STEP / 2 + 7] } },
          shape: {
            field: 'status',
            type: 'nominal',
            scale: { domain: ['ok', 'failed'], range: ['circle', 'cross'] },
            title: 'trial',
            legend: { orient: 'right', direction: 'vertical' },
          },
          color: {
            field: 'status',
            type: 'nominal',
            scale: { domain: ['ok', 'failed'], range: ['#222', COLORS.failed] },
            title: 'trial',
            legend: { orient: 'right', direction: 'vertical' },
          },
          description: { field: 'description' },
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return renderSvg(spec);
}
