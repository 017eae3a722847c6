// Where the downtime goes, per workload × strategy: one bar of the medians of the anat_* columns
// (src/metrics/anatomy.ts), stacked in the order the parts happen in a migration.
import type { TopLevelSpec } from 'vega-lite';
import { anatomyParts, type AnatomyPart } from '../../metrics/anatomy.ts';
import { renderSvg } from './render.ts';

export interface AnatomyBar {
  /** Axis label, e.g. "redis · criu". */
  label: string;
  /** Median ms of each part over the group's ok, measured trials. */
  medianMs: Partial<Record<AnatomyPart | 'unattributed', number>>;
}

// CRIU's own work in blues, the runtime and the target pod in greys, the app in greens, the
// harness's switches and checks in oranges, the client in purple; the unexplained in red.
const COLOR: Record<AnatomyPart | 'unattributed', string> = {
  stop: '#74c476',
  freeze: '#9ecae1',
  dump: '#3182bd',
  runtime: '#969696',
  transfer: '#6baed6',
  image: '#c6dbef',
  pod_setup: '#bdbdbd',
  sandbox: '#d9d9d9',
  container_create: '#cccccc',
  restore: '#08519c',
  start: '#a1d99b',
  pleg: '#fdbe85',
  endpoints: '#fd8d3c',
  proxy: '#a63603',
  app_load: '#31a354',
  ready: '#fdae6b',
  switch: '#e6550d',
  harness: '#fdd0a2',
  client: '#756bb1',
  unattributed: '#de2d26',
};

/** The stacking order: as the steps happen (stop before start, the switch and the client last). */
export const ANATOMY_ORDER: (AnatomyPart | 'unattributed')[] = [
  'unattributed',
  'stop',
  'freeze',
  'dump',
  'runtime',
  'transfer',
  'image',
  'pod_setup',
  'sandbox',
  'container_create',
  'restore',
  'start',
  'pleg',
  'app_load',
  'ready',
  'harness',
  'switch',
  'endpoints',
  'proxy',
  'client',
];
// Every part is in the order exactly once (a part added to anatomyParts without a place fails here).
if (ANATOMY_ORDER.length !== anatomyParts.length + 1 || !anatomyParts.every((p) => ANATOMY_ORDER.includes(p)))
  throw new Error('ANATOMY_ORDER must list every anatomy part once');

export async function anatomySvg(bars: AnatomyBar[]): Promise<string> {
  const values = bars.flatMap((b) =>
    ANATOMY_ORDER.map((part, order) => ({
      label: b.label,
      part,
      order,
      ms: b.medianMs[part] ?? 0,
      description: `${b.label}: ${part} ${(b.medianMs[part] ?? 0).toFixed(1)} ms (median)`,
    })).filter((v) => v.ms > 0),
  );
  const spec = {
    width: 760,
    height: { step: 26 },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: bars.map((b) => b.label), title: null, axis: { labelLimit: 260 } },
      x: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'ms of downtime (median of each anat_* column)' },
      // Fifteen parts in one row would make the chart ~1,250 px wide, and a page shrinks it with its text: two rows instead.
      color: {
        field: 'part',
        type: 'nominal',
        scale: { domain: ANATOMY_ORDER, range: ANATOMY_ORDER.map((p) => COLOR[p]) },
        title: null,
        legend: { columns: 8 },
      },
      order: { field: 'order', type: 'quantitative' },
      description: { field: 'description' },
    },
  } as unknown as TopLevelSpec;
  return renderSvg(spec);
}
