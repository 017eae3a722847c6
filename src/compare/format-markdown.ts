// The comparison as Markdown, for a CI job summary or a pull-request comment.
import type { Comparison } from './compare.ts';
import { formatChange, formatSide, legend, pCell, trialsCell, verdictCell } from './cells.ts';

const escape = (s: string) => s.replace(/\|/g, '\\|');

export function comparisonMarkdown(c: Comparison, title = 'migbench comparison'): string {
  const unreliable = c.unreliable.length > 0 ? ' (⚠ unreliable: the hosts were differently busy)' : '';
  const out = [`## ${title}: ${c.regression ? '❌ regression' : '✅ no regression'}${unreliable}`, ''];
  if (c.unreliable.length > 0) out.push(...c.unreliable.map((u) => `> ⚠ ${u}`), '');
  const table = (metrics: typeof c.metrics) => {
    out.push('| workload | strategy | metric | n | baseline median [95% CI] | current median [95% CI] | change | p | verdict |');
    out.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const m of metrics) {
      const verdict = m.verdict === 'regression' ? `**${verdictCell(m)}**` : verdictCell(m);
      out.push(
        `| ${[m.workload, m.strategy, `\`${m.metric}\``, `${m.baseline.n}/${m.current.n}`, formatSide(m.metric, m.baseline), formatSide(m.metric, m.current), formatChange(m), pCell(m), verdict + (m.note ? ' ⚠' : '')].map(escape).join(' | ')} |`,
      );
    }
  };
  table(c.metrics.filter((m) => m.gated));
  const ungated = c.metrics.filter((m) => !m.gated);
  if (ungated.length > 0) {
    out.push('', '<details><summary>Not gated: every other metric, for information (cannot fail the run)</summary>', '');
    table(ungated);
    out.push('', '</details>');
  }
  out.push('', ...c.trials.map((t) => `- ${t.workload} × ${t.strategy}: ${trialsCell(t)}`));
  const notes = c.metrics.filter((m) => m.note);
  if (notes.length > 0) out.push('', ...notes.map((m) => `- ⚠ ${m.workload} × ${m.strategy} \`${m.metric}\`: ${m.note}`));
  if (c.warnings.length > 0) out.push('', ...c.warnings.map((w) => `> warning: ${w}`));
  out.push('', legend(c));
  return `${out.join('\n')}\n`;
}
