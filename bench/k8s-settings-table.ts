// The table of bench/k8s-settings.sh: for each setting's run (a results directory under the folder
// given) and strategy, the median downtime and the median of each anatomy part over the ok, measured
// trials, so what a setting changed reads along a row (the part it acts on) and which loop dominates
// down a column. Usage: node bench/k8s-settings-table.ts <folder of runs>
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { anatomyColumns } from '../src/metrics/anatomy.ts';
import { percentile } from '../src/metrics/percentile.ts';

const folder = process.argv[2];
if (!folder || !existsSync(folder)) {
  process.stderr.write('usage: node bench/k8s-settings-table.ts <folder of runs (bench/k8s-settings.sh OUT)>\n');
  process.exit(2);
}
const runs = readdirSync(folder).filter((d) => existsSync(join(folder, d, 'trials.csv')));
const rows: string[][] = [];
const shown = new Set<string>();
const medians = new Map<string, Record<string, number>>();
for (const run of runs) {
  const trials = (parse(readFileSync(join(folder, run, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[]).filter(
    (t) => t.status === 'ok' && t.warmup !== 'true',
  );
  for (const strategy of [...new Set(trials.map((t) => t.strategy!))]) {
    const mine = trials.filter((t) => t.strategy === strategy);
    const m: Record<string, number> = {};
    for (const c of ['downtime_ms', ...anatomyColumns]) {
      m[c] =
        percentile(
          mine.map((t) => Number(t[c] || 0)),
          50,
        ) ?? 0;
      if (c !== 'downtime_ms' && m[c]! >= 0.5) shown.add(c);
    }
    m.n = mine.length;
    m.min = Math.min(...mine.map((t) => Number(t.downtime_ms)));
    m.max = Math.max(...mine.map((t) => Number(t.downtime_ms)));
    medians.set(`${run}\u0000${strategy}`, m);
  }
}
const columns = anatomyColumns.filter((c) => shown.has(c));
const header = ['setting', 'strategy', 'n', 'downtime_ms (range)', ...columns.map((c) => c.replace(/^anat_|_ms$/g, ''))];
for (const [key, m] of medians) {
  const [run, strategy] = key.split('\u0000');
  rows.push([run!, strategy!, String(m.n), `${m.downtime_ms!.toFixed(0)} (${m.min!.toFixed(0)}–${m.max!.toFixed(0)})`, ...columns.map((c) => m[c]!.toFixed(0))]);
}
process.stdout.write(`${[header, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
