// Where a CRIU migration's time goes, per trial, from CRIU's own statistics (trials.csv criu_*).
// CRIU's timers nest: memwrite (writing pages to the images) runs inside memdump (collecting them),
// and memdump inside frozen. Stacking the raw columns would count the write twice, so the bar shows
// disjoint parts that add up to freezing + frozen + restore:
//   freezing | memdump − memwrite | memwrite | frozen − memdump | restore
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './render.ts';

export interface CriuTrial {
  /** Axis label, e.g. "#3 redis rep 2". */
  label: string;
  freezingMs?: number;
  frozenMs?: number;
  memdumpMs?: number;
  memwriteMs?: number;
  restoreMs?: number;
}

export const CRIU_PARTS = [
  { name: 'freezing', columns: 'criu_freezing_ms', color: '#9ecae1' },
  { name: 'collecting pages', columns: 'criu_memdump_ms − criu_memwrite_ms', color: '#3182bd' },
  { name: 'writing pages', columns: 'criu_memwrite_ms', color: '#08519c' },
  { name: 'rest of the frozen dump', columns: 'criu_frozen_ms − criu_memdump_ms', color: '#bdbdbd' },
  { name: 'restore', columns: 'criu_restore_ms', color: '#fd8d3c' },
] as const;

/** The five disjoint parts of one trial, in stacking order; an unmeasured column gives 0 for the parts it bounds. */
export function criuParts(t: CriuTrial): number[] {
  const nonNeg = (v: number) => Math.max(0, v);
  const memwrite = t.memwriteMs ?? 0;
  const memdump = t.memdumpMs ?? memwrite;
  return [t.freezingMs ?? 0, nonNeg(memdump - memwrite), memwrite, t.frozenMs === undefined ? 0 : nonNeg(t.frozenMs - memdump), t.restoreMs ?? 0];
}

export async function criuPhasesSvg(trials: CriuTrial[]): Promise<string> {
  const values = trials.flatMap((t) =>
    criuParts(t).map((ms, order) => ({
      label: t.label,
      part: CRIU_PARTS[order]!.name,
      order,
      ms,
      description: `${t.label}: ${CRIU_PARTS[order]!.name} ${ms.toFixed(1)} ms`,
    })),
  );
  const spec = {
    width: 760,
    height: { step: 22 },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      // Without a canvas Vega estimates a label at 0.8 em a character: "#63 ml-training · criu · rep 6 (failed)" needs ~340 px of that, or it is cut to "rep…".
      y: { field: 'label', type: 'nominal', sort: trials.map((t) => t.label), title: null, axis: { labelLimit: 360 } },
      x: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'ms (CRIU statistics)' },
      color: {
        field: 'part',
        type: 'nominal',
        scale: { domain: CRIU_PARTS.map((p) => p.name), range: CRIU_PARTS.map((p) => p.color) },
        title: null,
        legend: { labelLimit: 300 },
      },
      order: { field: 'order', type: 'quantitative' },
      description: { field: 'description' },
    },
  } as unknown as TopLevelSpec;
  return renderSvg(spec);
}
