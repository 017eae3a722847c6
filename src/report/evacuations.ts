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
      return { strategy: r.strategy!, pods: Number(r.pods), concurrency: Number(r.concurrency), ...(totalMs !== undefined ? { totalMs } : {}), ...(downtimeP50Ms !== undefined ? { downtimeP50Ms } : {}) };
    });
}

/** The text the terminal prints after the summary; '' when the run had no evacuations. */
export function formatEvacuations(records: readonly Record<string, string>[]): string {
  const measured = records.filter((r) => r.warmup !== 'true');
  if (measured.length === 0) return '';
  const groups = new Map<string, Record<string, string>[]>();
  for (const r of measured) {
    const key = `${r.strategy}\u0000${r.pods}\u0000${r.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const median = (rows: Record<string, string>[], column: string) => percentile(rows.map((r) => num(r[column])).filter((v): v is number => v !== undefined), 50);
  const body = [...groups.values()]
    .sort((a, b) => (a[0]!.strategy! < b[0]!.strategy! ? -1 : a[0]!.strategy! > b[0]!.strategy! ? 1 : Number(a[0]!.pods) - Number(b[0]!.pods) || Number(a[0]!.concurrency) - Number(b[0]!.concurrency)))
    .map((rows) => [
      rows[0]!.strategy!, rows[0]!.pods!, rows[0]!.concurrency!, String(rows.length),
      ms(median(rows, 'total_ms')), ms(median(rows, 'downtime_p50_ms')), ms(median(rows, 'downtime_max_ms')),
      String(rows.reduce((sum, r) => sum + Number(r.pods_failed || 0), 0)),
    ]);
  const table = textTable(['strategy', 'pods', 'concurrency', 'evacuations', 'median total_ms', 'median downtime_p50_ms', 'median downtime_max_ms', 'pods failed'], body);
  const growth = evacuationGrowth(evacuationPoints(measured)).filter((g) => g.totalFit || g.contentionAtPods !== undefined);
  const lines = growth.map((g) => {
    const slope = g.totalFit ? `total +${g.totalFit.slope.toFixed(1)} ms per added pod (r² ${g.totalFit.rSquared.toFixed(2)})` : 'total: one pod count';
    const downtime = g.downtimeFit ? `, per-pod downtime ${g.downtimeFit.slope >= 0 ? '+' : ''}${g.downtimeFit.slope.toFixed(1)} ms per added pod` : '';
    const contention = g.contentionAtPods !== undefined ? `; contention from ${g.contentionAtPods} pods` : '; no contention';
    return `  ${g.strategy}, ${g.concurrency} at once: ${slope}${downtime}${contention}`;
  });
  const growthText = lines.length > 0
    ? `\n\ngrowth with the pod count (contention: median per-pod downtime > ${Math.round(CONTENTION_MARGIN * 100)} % above the fewest pods'):\n${lines.join('\n')}`
    : '';
  return `evacuations (evacuations.csv; medians over repetitions)\n${table}${growthText}`;
}

/** formatEvacuations of a results directory's evacuations.csv ('' when it has none, or no such file: an older run). */
export function formatEvacuationsOf(dir: string): string {
  const file = `${dir}/evacuations.csv`;
  if (!existsSync(file)) return '';
  return formatEvacuations(parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[]);
}
