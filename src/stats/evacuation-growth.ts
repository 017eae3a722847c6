// How an evacuation's cost grows with the number of pods and the concurrency limit, from
// evacuations.csv's rows: per strategy × concurrency, the total time and the per-pod downtime fitted
// against the pod count (ms per added pod), and where contention starts — the first pod count (or
// concurrency) whose median per-pod downtime exceeds the smallest one's by more than a margin.
import { percentile } from '../metrics/percentile.ts';
import { fitLine, type LineFit } from './line-fit.ts';

/** The figures of one evacuation this analysis needs (numbers; undefined where the CSV cell is empty). */
export interface EvacuationPoint {
  strategy: string;
  pods: number;
  concurrency: number;
  totalMs?: number;
  downtimeP50Ms?: number;
}

/** Median per-pod downtime above the smallest x's by more than this share: contention. */
export const CONTENTION_MARGIN = 0.25;

export interface GrowthFit {
  strategy: string;
  concurrency: number;
  /** Per pod count, ascending: the medians over its evacuations. */
  byPods: { pods: number; evacuations: number; totalMs?: number; downtimeP50Ms?: number }[];
  /** total_ms against pods over every evacuation: slope = ms per added pod. */
  totalFit?: LineFit;
  /** downtime_p50_ms against pods. */
  downtimeFit?: LineFit;
  /** The smallest pod count whose median per-pod downtime exceeds the smallest count's by > CONTENTION_MARGIN. */
  contentionAtPods?: number;
}

/**
 * The first x (ascending) whose y exceeds the y of the smallest x by more than `margin` (a share);
 * undefined when none does or the smallest x has no y. Pure; `points` may be in any order.
 */
export function contentionOnset(points: readonly { x: number; y: number | undefined }[], margin = CONTENTION_MARGIN): number | undefined {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const base = sorted[0]?.y;
  if (base === undefined) return undefined;
  return sorted.find((p) => p.y !== undefined && p.y > base * (1 + margin))?.x;
}

const median = (values: (number | undefined)[]) =>
  percentile(
    values.filter((v): v is number => v !== undefined),
    50,
  );

/** One GrowthFit per strategy × concurrency, sorted by strategy then concurrency. */
export function evacuationGrowth(points: readonly EvacuationPoint[]): GrowthFit[] {
  const groups = new Map<string, EvacuationPoint[]>();
  for (const p of points) {
    const key = `${p.strategy}\u0000${p.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  // An evacuation that moved all its pods at once is also a point of every higher limit (1 pod at
  // limit 1 is 1 pod at limit 2): so each limit's line starts from the fewest pods measured.
  for (const [key, group] of groups) {
    const { strategy, concurrency } = group[0]!;
    const below = points.filter((p) => p.strategy === strategy && p.pods === p.concurrency && p.concurrency < concurrency);
    groups.set(key, [...below, ...group]);
  }
  const fits: GrowthFit[] = [];
  for (const group of groups.values()) {
    const counts = [...new Set(group.map((p) => p.pods))].sort((a, b) => a - b);
    const byPods = counts.map((pods) => {
      const at = group.filter((p) => p.pods === pods);
      const totalMs = median(at.map((p) => p.totalMs));
      const downtimeP50Ms = median(at.map((p) => p.downtimeP50Ms));
      return { pods, evacuations: at.length, ...(totalMs !== undefined ? { totalMs } : {}), ...(downtimeP50Ms !== undefined ? { downtimeP50Ms } : {}) };
    });
    const pairs = (y: (p: EvacuationPoint) => number | undefined) => group.flatMap((p) => (y(p) === undefined ? [] : [[p.pods, y(p)!] as const]));
    const totalFit = fitLine(pairs((p) => p.totalMs));
    const downtimeFit = fitLine(pairs((p) => p.downtimeP50Ms));
    const contentionAtPods = contentionOnset(byPods.map((b) => ({ x: b.pods, y: b.downtimeP50Ms })));
    fits.push({
      strategy: group.at(-1)!.strategy,
      concurrency: group.at(-1)!.concurrency,
      byPods,
      ...(totalFit ? { totalFit } : {}),
      ...(downtimeFit ? { downtimeFit } : {}),
      ...(contentionAtPods !== undefined ? { contentionAtPods } : {}),
    });
  }
  return fits.sort((a, b) => (a.strategy < b.strategy ? -1 : a.strategy > b.strategy ? 1 : a.concurrency - b.concurrency));
}
