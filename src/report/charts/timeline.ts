// The availability timeline of one trial: each probe's samples as a lane of ok / failed segments
// over t_ms, the phase events as vertical rules with their names above the lanes.
import type { TopLevelSpec } from 'vega-lite';
import type { EventRecord, SampleSegment } from './timeline-input.ts';
import { COLORS, ERROR_COLORS, renderSvg } from './render.ts';

type SegmentState = 'ok' | 'failed' | 'partly failed';

/** What the chart draws: a segment, or (when a trial has too many) several merged into one, never hiding a failure. */
export interface DisplaySegment {
  probe: string;
  state: SegmentState;
  /** The failed samples' errors, e.g. "timeout" or "refused, timeout"; '' when ok. */
  errors: string;
  startMs: number;
  endMs: number;
  samples: number;
  failed: number;
}

const asDisplay = (s: SampleSegment): DisplaySegment => ({
  probe: s.probe,
  state: s.ok ? 'ok' : 'failed',
  errors: s.ok ? '' : s.error,
  startMs: s.startMs,
  endMs: s.endMs,
  samples: s.count,
  failed: s.ok ? 0 : s.count,
});

/**
 * At most about 2 × maxSegments segments per probe (500: one per 2 px of the 1000 px wide chart). Segments shorter than 1/maxSegments of the
 * trial are merged with their neighbours into one whose state is ok only if all its samples were,
 * failed if all failed, else "partly failed": a failed sample always shows, whatever the merging.
 */
export function downsampleSegments(segments: SampleSegment[], maxSegments = 500): DisplaySegment[] {
  const byProbe = new Map<string, SampleSegment[]>();
  for (const s of segments) {
    const list = byProbe.get(s.probe);
    if (list) list.push(s);
    else byProbe.set(s.probe, [s]);
  }
  const out: DisplaySegment[] = [];
  for (const list of byProbe.values()) {
    if (list.length <= maxSegments) {
      out.push(...list.map(asDisplay));
      continue;
    }
    const width = (list[list.length - 1]!.endMs - list[0]!.startMs) / maxSegments;
    const merged: DisplaySegment[] = [];
    let acc: { first: SampleSegment; endMs: number; samples: number; failed: number; errors: Set<string> } | undefined;
    const flush = () => {
      if (!acc) return;
      const state: SegmentState = acc.failed === 0 ? 'ok' : acc.failed === acc.samples ? 'failed' : 'partly failed';
      push({
        probe: acc.first.probe,
        state,
        errors: [...acc.errors].sort().join(', '),
        startMs: acc.first.startMs,
        endMs: acc.endMs,
        samples: acc.samples,
        failed: acc.failed,
      });
      acc = undefined;
    };
    const push = (d: DisplaySegment) => {
      const last = merged[merged.length - 1];
      if (last && last.state === d.state && last.errors === d.errors) {
        last.endMs = d.endMs;
        last.samples += d.samples;
        last.failed += d.failed;
      } else merged.push(d);
    };
    for (const s of list) {
      if (s.endMs - s.startMs >= width) {
        flush();
        push(asDisplay(s));
        continue;
      }
      acc ??= { first: s, endMs: s.endMs, samples: 0, failed: 0, errors: new Set() };
      acc.endMs = s.endMs;
      acc.samples += s.count;
      if (!s.ok) {
        acc.failed += s.count;
        acc.errors.add(s.error);
      }
      if (acc.endMs - acc.first.startMs >= width) flush();
    }
    flush();
    out.push(...merged);
  }
  return out;
}

const TIMELINE_WIDTH = 1000;
const ROW_H = 11;
const LANE_H = 18;
const LANE_GAP = 4;
const MAX_LABEL_ROWS = 14;
const LABEL_FONT = 9;

const eventColor = (event: string) => (event === 'trigger' ? COLORS.trigger : event.startsWith('phase:') ? COLORS.phase : COLORS.event);

/** What a segment is drawn as: ok, partly failed, or failed by its one error (e.g. "timeout"), else failed. */
export function segmentKey(s: DisplaySegment): string {
  if (s.state !== 'failed') return s.state;
  return s.errors in ERROR_COLORS ? s.errors : 'failed';
}

export function segmentColor(key: string): string {
  return key === 'ok' ? COLORS.ok : key === 'partly failed' ? COLORS.partial : (ERROR_COLORS[key] ?? COLORS.failed);
}
const fmt = (ms: number) => ms.toFixed(1);

/** Puts each label in the first row where it does not overlap the previous one (pixel estimate). */
function labelRows(events: EventRecord[], x: (t: number) => number): { row: number; align: 'left' | 'right' }[] {
  const rowEnds: number[] = [];
  return events.map((e) => {
    const px = x(e.tMs);
    const w = e.event.length * LABEL_FONT * 0.6 + 6;
    const align = px + w > TIMELINE_WIDTH ? 'right' : 'left';
    const [from, to] = align === 'left' ? [px, px + w] : [px - w, px];
    let row = rowEnds.findIndex((end) => end <= from);
    if (row === -1) row = rowEnds.length < MAX_LABEL_ROWS ? rowEnds.length : rowEnds.indexOf(Math.min(...rowEnds));
    rowEnds[row] = to;
    return { row, align };
  });
}

export interface TimelineInput {
  segments: DisplaySegment[];
  /** The trial's events; those outside the samples' time range are left out of the chart. */
  events: EventRecord[];
}

/** The chart's SVG, or undefined when the trial has neither samples nor events. */
export async function timelineSvg({ segments, events }: TimelineInput): Promise<string | undefined> {
  const times = segments.length > 0 ? segments.flatMap((s) => [s.startMs, s.endMs]) : events.map((e) => e.tMs);
  if (times.length === 0) return undefined;
  let d0 = times.reduce((a, b) => Math.min(a, b));
  let d1 = times.reduce((a, b) => Math.max(a, b));
  if (d1 <= d0) [d0, d1] = [d0 - 1, d1 + 1];
  const x = (t: number) => ((t - d0) / (d1 - d0)) * TIMELINE_WIDTH;

  const shown = events.filter((e) => e.tMs >= d0 && e.tMs <= d1).sort((a, b) => a.tMs - b.tMs);
  const placed = labelRows(shown, x);
  const rows = Math.max(0, ...placed.map((p) => p.row + 1));
  const lanesTop = rows * ROW_H + 4;
  const probes = [...new Set(segments.map((s) => s.probe))];
  const laneTop = (probe: string) => lanesTop + probes.indexOf(probe) * (LANE_H + LANE_GAP);
  const height = lanesTop + Math.max(1, probes.length) * (LANE_H + LANE_GAP) - LANE_GAP;

  const segmentRows = segments.map((s) => ({
    x: s.startMs,
    x2: s.endMs,
    y: laneTop(s.probe),
    y2: laneTop(s.probe) + LANE_H,
    color: segmentColor(segmentKey(s)),
    description: `${s.probe} ${s.state}${s.errors ? ` (${s.errors})` : ''}: ${s.samples} samples, ${s.failed} failed, t_ms ${fmt(s.startMs)} to ${fmt(s.endMs)}`,
  }));
  // A failure narrower than 2 px (one probe interval on a long trial is well under a pixel) is drawn as a 2 px rule instead, so it shows.
  const narrow = segmentRows.map((r, i) => segments[i]!.state !== 'ok' && x(r.x2) - x(r.x) < 2);
  const failedRows = segmentRows.filter((_, i) => narrow[i]);
  const rectRows = segmentRows.filter((_, i) => !narrow[i]);
  const eventRows = shown.map((e, i) => ({
    x: e.tMs,
    // The rule starts under its label (a flag on a pole) and runs down through the lanes.
    y: placed[i]!.row * ROW_H + ROW_H - 1,
    ty: placed[i]!.row * ROW_H + ROW_H - 3,
    y2: height,
    text: e.event,
    align: placed[i]!.align,
    color: eventColor(e.event),
    description: `${e.event} at t_ms ${e.tMs.toFixed(3)} (${e.source})${e.detail ? `: ${e.detail}` : ''}`,
  }));
  const migrated = events.find((e) => e.event === 'migrated' && e.tMs > 0 && e.tMs <= d1);

  const xEnc = {
    field: 'x',
    type: 'quantitative',
    scale: { domain: [d0, d1], nice: false, zero: false },
    axis: { tickCount: 12 },
    title: 't_ms (ms after the trigger)',
  } as const;
  const yEnc = { field: 'y', type: 'quantitative', scale: { domain: [0, height], reverse: true, nice: false, zero: false }, axis: null } as const;
  const color = { field: 'color', type: 'nominal', scale: null } as const;
  const spec = {
    width: TIMELINE_WIDTH,
    height,
    layer: [
      ...(migrated && 0 >= d0
        ? [
            {
              data: { values: [{ x: 0, x2: migrated.tMs, y: lanesTop - 2, y2: height }] },
              mark: { type: 'rect', color: COLORS.phase, opacity: 0.1 },
              encoding: { x: xEnc, x2: { field: 'x2' }, y: yEnc, y2: { field: 'y2' }, description: { value: `migration: t_ms 0 to ${fmt(migrated.tMs)}` } },
            },
          ]
        : []),
      {
        data: { values: rectRows },
        mark: { type: 'rect' },
        encoding: { x: xEnc, x2: { field: 'x2' }, y: yEnc, y2: { field: 'y2' }, color, description: { field: 'description' } },
      },
      {
        data: { values: failedRows },
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: { x: xEnc, y: yEnc, y2: { field: 'y2' }, color, description: { field: 'description' } },
      },
      {
        data: { values: eventRows },
        mark: { type: 'rule', strokeWidth: 1, strokeDash: [3, 2] },
        encoding: { x: xEnc, y: yEnc, y2: { field: 'y2' }, color, description: { field: 'description' } },
      },
      ...(['left', 'right'] as const).map((align) => ({
        data: { values: eventRows.filter((e) => e.align === align) },
        mark: { type: 'text', fontSize: LABEL_FONT, baseline: 'alphabetic', align },
        encoding: { x: xEnc, y: { ...yEnc, field: 'ty' }, text: { field: 'text' }, color, description: { field: 'description' } },
      })),
      {
        data: { values: probes.map((p) => ({ x: d0, y: laneTop(p) + LANE_H / 2 + 4, text: p })) },
        mark: { type: 'text', fontSize: 11, align: 'right', dx: -6, color: '#333' },
        encoding: { x: xEnc, y: yEnc, text: { field: 'text' } },
      },
    ],
  } as unknown as TopLevelSpec;
  return renderSvg(spec);
}
