// `migbench compare <baseline-dir> <current-dir>`: is the current run worse than the baseline?
// `--history FILE`: and/or than the last N runs of a history (src/history/); `--append-history` adds it.
// Exit 0: no regression; 3: a regression; 4: a regression, but the hosts were differently busy
// (unreliable, src/compare/drift.ts); 2: bad input (docs/nightly.md).
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadScenario } from '../scenario/load.ts';
import { RerunProblem, runInterleaved } from '../rerun/interleaved.ts';
import { readRunJsonChecked, readTrialsChecked } from '../results/read-checked.ts';
import { compareRuns } from '../compare/compare.ts';
import { resolveGate } from '../compare/thresholds.ts';
import { comparisonTable } from '../compare/format-table.ts';
import { comparisonMarkdown } from '../compare/format-markdown.ts';
import { comparisonCsv } from '../compare/format-csv.ts';
import { comparableMetricColumns as metricColumns, type MetricColumn } from '../metrics/trial-metrics.ts';
import { appendToHistory, readHistory, summarizeRun } from '../history/history.ts';
import { DEFAULT_HISTORY_RUNS, MIN_HISTORY_RUNS, judgeAgainstHistory } from '../history/judge.ts';
import { historyMarkdown, historyTable } from '../history/format.ts';
import { CommandFailure, EXIT_OK, EXIT_REGRESSION, EXIT_UNRELIABLE_REGRESSION, EXIT_USAGE } from './exit-codes.ts';

export interface CompareArgs {
  /** With --history and no `current`: the run to judge. */
  baseline?: string;
  current?: string;
  /** A history CSV (src/history/history.ts) to judge the current run against. */
  history?: string;
  /** How many of the latest earlier runs of the history form the distribution (default 20). */
  historyRuns?: number;
  /** Append the current run's medians to the history after judging it. */
  appendHistory?: boolean;
  /** Measure the baseline commit's code and this checkout's interleaved in one sitting, then compare (src/rerun/). */
  rerun?: { commit: string; scenario?: string; reps?: number; rounds?: number; out?: string };
  alpha?: number;
  /** `metric=+10%` entries: add the metric to the gate (the current run's scenario `compare.thresholds`, else the default set) or override its threshold. */
  thresholds: string[];
  metrics?: string[];
  format: 'table' | 'markdown' | 'csv';
  markdownFile?: string;
  csvFile?: string;
}

interface RunInfoSubset {
  runId?: string;
  startedAt?: string;
  gitCommit?: string | null;
  scenario?: {
    name?: string;
    compare?: { alpha?: number; thresholds?: Record<string, string> };
    workloads?: unknown;
    timing?: unknown;
    probe?: unknown;
    nodes?: unknown;
  };
  host?: { cpuModel?: string; cpus?: number; kernel?: string };
  versions?: Record<string, string>;
}

interface RunFiles {
  trials: Record<string, string>[];
  info: RunInfoSubset;
  compare?: { alpha?: number; thresholds?: Record<string, string> };
  runId?: string;
}

/** Differences that make a comparison about the set-up rather than the code: said, not hidden. */
function setupDifferences(a: RunInfoSubset, b: RunInfoSubset): string[] {
  const out: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  for (const key of ['workloads', 'timing', 'probe', 'nodes'] as const) {
    if (a.scenario?.[key] !== undefined && b.scenario?.[key] !== undefined && !same(a.scenario[key], b.scenario[key]))
      out.push(`the scenarios differ in \`${key}\``);
  }
  for (const key of ['cpuModel', 'cpus', 'kernel'] as const) {
    if (a.host?.[key] !== undefined && b.host?.[key] !== undefined && a.host[key] !== b.host[key])
      out.push(`the hosts differ in ${key} (${a.host[key]} vs ${b.host[key]})`);
  }
  for (const tool of ['criu', 'runc', 'redis']) {
    const x = a.versions?.[tool];
    const y = b.versions?.[tool];
    if (x !== undefined && y !== undefined && x !== y) out.push(`${tool} versions differ (${x} vs ${y})`);
  }
  return out;
}

/** --rerun: both arms measured interleaved (src/rerun/interleaved.ts); the merged directories become the pair to compare. */
async function rerunBothArms(args: CompareArgs): Promise<{ baseline: string; current: string }> {
  const rerun = args.rerun!;
  const problems: string[] = [];
  if (args.baseline !== undefined || args.current !== undefined) problems.push('--rerun: measures both arms itself; give no results directories');
  if (rerun.scenario === undefined) problems.push('--rerun: needs --scenario FILE (what both arms run), e.g. --scenario scenarios/default.yaml');
  if (rerun.rounds !== undefined && !(Number.isInteger(rerun.rounds) && rerun.rounds >= 1))
    problems.push(`--rounds: expected a whole number ≥ 1, found ${rerun.rounds}`);
  if (rerun.reps !== undefined && !(Number.isInteger(rerun.reps) && rerun.reps >= 1)) problems.push(`--reps: expected a whole number ≥ 1, found ${rerun.reps}`);
  if (problems.length > 0) throw new CommandFailure(`migbench compare: ${problems.join('\n  ')}`, EXIT_USAGE);
  let reps = rerun.reps;
  if (reps === undefined) {
    try {
      reps = (await loadScenario(rerun.scenario!, {})).scenario.repetitions;
    } catch (err) {
      throw new CommandFailure(`migbench compare --rerun: ${err instanceof Error ? err.message : String(err)}`, EXIT_USAGE);
    }
  }
  const out = resolve(rerun.out ?? `results/rerun-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`);
  try {
    return runInterleaved({
      repo: resolve(import.meta.dirname, '..', '..'),
      commit: rerun.commit,
      scenario: rerun.scenario!,
      reps,
      rounds: rerun.rounds ?? 3,
      out,
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof RerunProblem) throw new CommandFailure(`migbench compare: ${err.message}`, EXIT_USAGE);
    throw err;
  }
}

/** Reads a results directory; its problems are returned, not thrown, so both directories' are listed at once. */
function readRun(dir: string, role: string): { run: RunFiles; problems: string[] } {
  const file = `${dir}/trials.csv`;
  if (!existsSync(file))
    return { run: { trials: [], info: {} }, problems: [`${role} ${dir}: no trials.csv there; give a results directory written by \`migbench run\``] };
  const trials = readTrialsChecked(file);
  const run = readRunJsonChecked<RunInfoSubset>(`${dir}/run.json`);
  const info = run.value ?? {};
  return { run: { trials: trials.value, info, compare: info.scenario?.compare, runId: info.runId }, problems: [...trials.problems, ...run.problems] };
}

export async function compareCommand(args: CompareArgs): Promise<number> {
  if (args.rerun) args = { ...args, ...(await rerunBothArms(args)) };
  const problems: string[] = [];
  // With --history one directory is enough: the run to judge.
  const currentDir = args.current ?? (args.history !== undefined ? args.baseline : undefined);
  const baselineDir = args.current !== undefined ? args.baseline : undefined;
  if (currentDir === undefined) {
    throw new CommandFailure(
      'migbench compare: give two results directories (BASELINE CURRENT), or one with --history FILE (the run to judge against the history)',
      EXIT_USAGE,
    );
  }
  const baselineRead = baselineDir !== undefined ? readRun(baselineDir, 'baseline') : undefined;
  const { run: current, problems: currentProblems } = readRun(currentDir, 'current');
  problems.push(...(baselineRead?.problems ?? []), ...currentProblems);
  const flagEntries: Record<string, string> = {};
  for (const entry of args.thresholds) {
    const m = /^([a-z0-9_]+)=(.+)$/.exec(entry);
    if (!m) problems.push(`--threshold ${entry}: expected METRIC=THRESHOLD, e.g. downtime_ms=+10%`);
    else flagEntries[m[1]!] = m[2]!;
  }
  // The gate: the current run's scenario `compare.thresholds` (else the default set) plus the flags.
  const { thresholds, gated, problems: thresholdProblems } = resolveGate(current.compare?.thresholds, flagEntries);
  problems.push(...thresholdProblems.map((p) => `--threshold ${p.entry}: ${p.message}`));
  const alpha = args.alpha ?? current.compare?.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) problems.push(`--alpha: expected a number between 0 and 1 (e.g. 0.05), found ${args.alpha}`);
  const unknown = (args.metrics ?? []).filter((m) => !(metricColumns as string[]).includes(m));
  if (unknown.length > 0) problems.push(`--metrics: unknown ${unknown.join(', ')}; expected trials.csv metric columns (${metricColumns.join(', ')})`);
  const lastRuns = args.historyRuns ?? DEFAULT_HISTORY_RUNS;
  if (!(Number.isInteger(lastRuns) && lastRuns >= MIN_HISTORY_RUNS))
    problems.push(`--history-runs: expected a whole number ≥ ${MIN_HISTORY_RUNS}, found ${args.historyRuns}`);
  if (args.appendHistory && args.history === undefined) problems.push('--append-history: needs --history FILE (the history to append the current run to)');
  const history = args.history !== undefined ? readHistory(args.history) : undefined;
  problems.push(...(history?.problems ?? []).map((p) => `--history ${p}`));
  if (problems.length > 0) throw new CommandFailure(`migbench compare: ${problems.join('\n  ')}`, EXIT_USAGE);

  const out: { text: string[]; markdown: string[]; csv?: string } = { text: [], markdown: [] };
  let regression = false;
  let unreliable = false;
  if (baselineRead) {
    const baseline = baselineRead.run;
    const comparison = compareRuns(baseline.trials, current.trials, {
      alpha,
      thresholds,
      gated,
      ...(args.metrics ? { only: args.metrics as MetricColumn[] } : {}),
    });
    comparison.warnings.push(...setupDifferences(baseline.info, current.info).map((d) => `${d}: differences may come from the set-up, not the code`));
    const title = `migbench: ${current.runId ?? currentDir} vs baseline ${baseline.runId ?? baselineDir}`;
    out.text.push(`${title}\n\n${comparisonTable(comparison)}\n`);
    out.markdown.push(comparisonMarkdown(comparison, title));
    out.csv = comparisonCsv(comparison);
    regression ||= comparison.regression;
    unreliable = comparison.unreliable.length > 0;
  }
  if (history && args.history !== undefined) {
    const summary = summarizeRun(current.trials, {
      runId: current.runId ?? currentDir,
      startedAt: current.info.startedAt ?? '',
      gitCommit: current.info.gitCommit ?? '',
      scenario: current.info.scenario?.name ?? '',
    });
    const judged = judgeAgainstHistory(summary, history.rows, { alpha, thresholds, gated, lastRuns });
    out.text.push(`migbench: ${current.runId ?? currentDir} against the history ${args.history}\n\n${historyTable(judged)}\n`);
    out.markdown.push(historyMarkdown(judged));
    regression ||= judged.regression;
    if (args.appendHistory) {
      const appended = appendToHistory(args.history, summary);
      out.text.push(
        appended
          ? `history: appended ${current.runId ?? currentDir} to ${args.history}\n`
          : `history: ${current.runId ?? currentDir} is already in ${args.history}; not appended again\n`,
      );
    }
  }
  if (args.markdownFile) writeFileSync(args.markdownFile, out.markdown.join('\n'));
  if (args.csvFile && out.csv !== undefined) writeFileSync(args.csvFile, out.csv);
  const text = args.format === 'markdown' ? out.markdown.join('\n') : args.format === 'csv' ? (out.csv ?? '') : out.text.join('\n');
  process.stdout.write(text);
  if (!regression) return EXIT_OK;
  return unreliable ? EXIT_UNRELIABLE_REGRESSION : EXIT_REGRESSION;
}
