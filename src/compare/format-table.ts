// The comparison as an aligned terminal table.
import type { Comparison } from './compare.ts';
import { formatChange, formatSide, legend, pCell, trialsCell, verdictCell } from './cells.ts';

export function comparisonTable(c: Comparison): string {
  const header = ['workload', 'strategy', 'metric', 'n', 'baseline median [95% CI]', 'current median [95% CI]', 'change', 'p', 'verdict'];
  // Gated rows first: the ones that decide the result.
  const ordered = [...c.metrics.filter((m) => m.gated), ...c.metrics.filter((m) => !m.gated)];
  const rows = ordered.map((m) => [
    m.workload,
    m.strategy,
    m.metric,
    `${m.baseline.n}/${m.current.n}`,
    formatSide(m.metric, m.baseline),
    formatSide(m.metric, m.current),
    formatChange(m),
    pCell(m),
    `${verdictCell(m)}${m.note ? ' (!)' : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  out.push('', ...c.trials.map((t) => `${t.workload} × ${t.strategy}: ${trialsCell(t)}`));
  const notes = c.metrics.filter((m) => m.note);
  if (notes.length > 0) out.push('', ...notes.map((m) => `(!) ${m.workload} × ${m.strategy} ${m.metric}: ${m.note}`));
  if (c.warnings.length > 0) out.push('', ...c.warnings.map((w) => `warning: ${w}`));
  out.push(
    '',
    `${legend(c)} ${c.regression ? 'RESULT: regression' : 'RESULT: no regression'}${c.unreliable.length > 0 ? ' (UNRELIABLE: the hosts were differently busy, see the warnings)' : ''}`,
  );
  return out.join('\n');
}
