// The evacuations of a run, read back from evacuations.csv: one line per strategy × pods ×
// concurrency (medians over repetitions), then the growth — total time and per-pod downtime fitted
// against the pod count (ms per added pod) and where contention starts (stats/evacuation-growth.ts).
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { percentile } from '../metrics/percentile.ts';
import { evacuationGrowth, CONTENTION_MARGIN, type EvacuationPoint } from '../stats/evacuation-growth.ts';
import { textTable } from './text-table.ts';

const num = (cell: string | undefined) => (cell === undefined || cell === '' ? undefined : Number(cell));
const ms = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1));

/** evacuations.csv's measured (non-warm-up) rows as points of the growth analysis. */
export function evacuationPoints(records: readonly Record<string, string>[]): EvacuationPoint[] {
  return records
    .filter((r) => r.warmup !== 'true')
    .map((r) => {
      const totalMs = num(r.total_ms);
      const downtimeP50Ms = num(r.downtime_p50_ms);
      return {
        strategy: r.strategy!,
        pods: Number(r.pods),
        concurrency: Number(r.concurrency),
        ...(totalMs !== undefined ? { totalMs } : {}),
        ...(downtimeP50Ms !== undefined ? { downtimeP50Ms } : {}),
      };
    });
}

export interface EvacuationCells {
  header: string[];
  body: string[][];
  /** One line per strategy × concurrency with a fitted growth. */
  growth: string[];
  /** What the growth lines mean. */
  growthTitle: string;
}

/** The evacuations table (medians per strategy × pods × concurrency) and the growth lines; undefined without measured evacuations. */
export function evacuationCells(records: readonly Record<string, string>[]): EvacuationCells | undefined {
  const measured = records.filter((r) => r.warmup !== 'true');
  if (measured.length === 0) return undefined;
  const groups = new Map<string, Record<string, string>[]>();
  for (const r of measured) {
    const key = `${r.strategy}\u0000${r.pods}\u0000${r.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const median = (rows: Record<string, string>[], column: string) =>
    percentile(
      rows.map((r) => num(r[column])).filter((v): v is number => v !== undefined),
      50,
    );
  const body = [...groups.values()]
    .sort((a, b) =>
      a[0]!.strategy! < b[0]!.strategy!
        ? -1
        : a[0]!.strategy! > b[0]!.strategy!
          ? 1
          : Number(a[0]!.pods) - Number(b[0]!.pods) || Number(a[0]!.concurrency) - Number(b[0]!.concurrency),
    )
    .map((rows) => [
      rows[0]!.strategy!,
      rows[0]!.pods!,
      rows[0]!.concurrency!,
      String(rows.length),
      ms(median(rows, 'total_ms')),
      ms(median(rows, 'downtime_p50_ms')),
      ms(median(rows, 'downtime_max_ms')),
      String(rows.reduce((sum, r) => sum + Number(r.pods_failed || 0), 0)),
    ]);
  const header = ['strategy', 'pods', 'concurrency', 'evacuations', 'median total_ms', 'median downtime_p50_ms', 'median downtime_max_ms', 'pods failed'];
  const growth = evacuationGrowth(evacuationPoints(measured))
    .filter((g) => g.totalFit || g.contentionAtPods !== undefined)
    .map((g) => {
      const slope = g.totalFit ? `total +${g.totalFit.slope.toFixed(1)} ms per added pod (r² ${g.totalFit.rSquared.toFixed(2)})` : 'total: one pod count';
      const downtime = g.downtimeFit ? `, per-pod downtime ${g.downtimeFit.slope >= 0 ? '+' : ''}${g.downtimeFit.slope.toFixed(1)} ms per added pod` : '';
      const contention = g.contentionAtPods !== undefined ? `; contention from ${g.contentionAtPods} pods` : '; no contention';
      return `${g.strategy}, ${g.concurrency} at once: ${slope}${downtime}${contention}`;
    });
  const growthTitle = `growth with the pod count (contention: median per-pod downtime > ${Math.round(CONTENTION_MARGIN * 100)} % above the fewest pods')`;
  return { header, body, growth, growthTitle };
}

/** The text the terminal prints after the summary; '' when the run had no evacuations. */
export function formatEvacuations(records: readonly Record<string, string>[]): string {
  const cells = evacuationCells(records);
  if (!cells) return '';
  const growthText = cells.growth.length > 0 ? `\n\n${cells.growthTitle}:\n${cells.growth.map((l) => `  ${l}`).join('\n')}` : '';
  return `evacuations (evacuations.csv; medians over repetitions)\n${textTable(cells.header, cells.body)}${growthText}`;
}

/** evacuations.csv's rows ([] without the file: an older run, or none). */
export function readEvacuations(dir: string): Record<string, string>[] {
  const file = `${dir}/evacuations.csv`;
  return existsSync(file) ? (parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[]) : [];
}

/** formatEvacuations of a results directory's evacuations.csv ('' when it has none). */
export function formatEvacuationsOf(dir: string): string {
  return formatEvacuations(readEvacuations(dir));
}
