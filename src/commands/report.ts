// `migbench report <results-dir>`: one self-contained HTML file (charts inlined as SVG, nothing loaded
// from anywhere) with the summary, the distributions, CRIU's phases, every trial's availability
// timeline and the run's environment. Reads the files only; needs no root and starts nothing.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readResults } from '../report/read-results.ts';
import { readRunJsonChecked, readTrialsChecked } from '../results/read-checked.ts';
import { renderHtmlReport } from '../report/html-report.ts';
import { readHistory } from '../history/history.ts';
import { CommandFailure, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';

export interface ReportArgs {
  dir: string;
  /** Output file; default `<dir>/report.html`. */
  out?: string;
  quiet?: boolean;
  /** A nightly history CSV: the report gets the history chart with this run marked. */
  history?: string;
}

export async function reportCommand(args: ReportArgs): Promise<number> {
  const dir = resolve(args.dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CommandFailure(
      `migbench report: ${dir}: no such directory; give a results directory written by \`migbench run\` (e.g. results/<run-id>)`,
      EXIT_USAGE,
    );
  }
  if (!existsSync(join(dir, 'trials.csv'))) {
    throw new CommandFailure(
      `migbench report: ${join(dir, 'trials.csv')} is missing; give a results directory written by \`migbench run\` (one with trials.csv; a run that finished no trial has nothing to report)`,
      EXIT_USAGE,
    );
  }
  // Checked before anything is read for the report or written: a broken input is a message, not a half report.
  const problems = [...readTrialsChecked(join(dir, 'trials.csv')).problems, ...readRunJsonChecked(join(dir, 'run.json')).problems];
  const history = args.history !== undefined ? readHistory(args.history) : undefined;
  if (args.history !== undefined && !existsSync(args.history))
    problems.push(`--history ${args.history}: no such file; give the history CSV written by \`migbench compare --append-history\``);
  problems.push(...(history?.problems ?? []).map((p) => `--history ${p}`));
  if (problems.length > 0) throw new CommandFailure(`migbench report: ${problems.join('\n  ')}`, EXIT_USAGE);
  const out = resolve(args.out ?? join(dir, 'report.html'));
  // The directory as given (e.g. results/<run-id>), so the report names it as the user does.
  const data = await readResults(args.dir.replace(/\/+$/, '') || dir);
  const scenario = (data.run?.scenario as { name?: string } | undefined)?.name ?? '';
  const html = await renderHtmlReport(data, history ? { history: { rows: history.rows, scenario } } : {});
  try {
    writeFileSync(out, html);
  } catch (err) {
    throw new CommandFailure(
      `migbench report: cannot write ${out} (${err instanceof Error ? err.message : String(err)}); choose another file with --out`,
      EXIT_USAGE,
    );
  }
  if (!args.quiet) process.stdout.write(`report: ${out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB)\n`);
  return EXIT_OK;
}
