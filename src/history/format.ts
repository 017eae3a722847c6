// A judgement against the history (judge.ts) as a terminal table and as Markdown, in the words of
// the compare output (cells.ts), so the two read alike.
import { formatP, formatValue } from '../compare/cells.ts';
import type { HistoryComparison, HistoryJudgement } from './judge.ts';

const verdictCell = (r: HistoryJudgement) => {
  if (r.verdict === 'same') return '~';
  const change = r.historyMedian
    ? `${r.current >= r.historyMedian ? '+' : '−'}${Math.abs(((r.current - r.historyMedian) / r.historyMedian) * 100).toFixed(1)}% `
    : '';
  return `${change}${r.verdict === 'regression' ? 'REGRESSION' : 'improved'}`;
};

function cells(r: HistoryJudgement): string[] {
  const band =
    r.historyMedian === undefined
      ? '—'
      : `${formatValue(r.metric, r.historyMedian)} ± ${formatValue(r.metric, r.historySpread)} [${formatValue(r.metric, r.historyMin)}, ${formatValue(r.metric, r.historyMax)}]`;
  return [
    r.workload,
    r.strategy,
    r.metric,
    String(r.runs),
    band,
    formatValue(r.metric, r.current),
    r.z === undefined ? '—' : Number.isFinite(r.z) ? r.z.toFixed(2) : String(r.z),
    r.p === undefined ? '—' : `${formatP(r.p)} (adj ${formatP(r.pAdjusted)})`,
    verdictCell(r) + (r.note ? ' (!)' : ''),
  ];
}

const HEADER = ['workload', 'strategy', 'metric', 'runs', 'history median ± spread [min, max]', 'this run', 'z', 'p', 'verdict'];

function historyLegend(c: HistoryComparison): string {
  return `Against the last ≤ ${c.lastRuns} earlier runs' medians: z = (this run − their median) / (1.4826·MAD·√(1+1/N)), two-sided normal p, Holm-adjusted over the gated metrics; ~ = adjusted p ≥ ${c.alpha} or within the threshold.`;
}

export function historyTable(c: HistoryComparison): string {
  const rows = c.rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cs: string[]) =>
    cs
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const notes = c.rows.filter((r) => r.note).map((r) => `(!) ${r.workload} × ${r.strategy} ${r.metric}: ${r.note}`);
  return [
    line(HEADER),
    ...rows.map(line),
    ...(notes.length ? ['', ...notes] : []),
    '',
    `${historyLegend(c)} ${c.regression ? 'HISTORY: regression' : 'HISTORY: no regression'}`,
  ].join('\n');
}

export function historyMarkdown(c: HistoryComparison): string {
  const out = [
    `### Against the history: ${c.regression ? '❌ regression' : '✅ no regression'}`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
  ];
  for (const r of c.rows)
    out.push(
      `| ${cells(r)
        .map((x) => x.replace(/\|/g, '\\|'))
        .join(' | ')} |`,
    );
  const notes = c.rows.filter((r) => r.note);
  if (notes.length > 0) out.push('', ...notes.map((r) => `- ⚠ ${r.workload} × ${r.strategy} \`${r.metric}\`: ${r.note}`));
  out.push('', historyLegend(c));
  return `${out.join('\n')}\n`;
}
