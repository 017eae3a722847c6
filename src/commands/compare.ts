// `migbench compare <baseline-dir> <current-dir>`: is the current run worse than the baseline?
// Exit 0: no regression; 3: a regression (documented in README.md); 2: bad input.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseTrialsCsv } from '../report/summary.ts';
import { compareRuns } from '../compare/compare.ts';
import { resolveThresholds } from '../compare/thresholds.ts';
import { comparisonTable } from '../compare/format-table.ts';
import { comparisonMarkdown } from '../compare/format-markdown.ts';
import { comparisonCsv } from '../compare/format-csv.ts';
import { metricColumns, type MetricColumn } from '../metrics/trial-metrics.ts';
import { CommandFailure, EXIT_OK, EXIT_REGRESSION, EXIT_USAGE } from './exit-codes.ts';

export interface CompareArgs {
  baseline: string;
  current: string;
  alpha?: number;
  /** `metric=+10%` entries; override the current run's scenario `compare.thresholds`. */
  thresholds: string[];
  metrics?: string[];
  format: 'table' | 'markdown' | 'csv';
  markdownFile?: string;
  csvFile?: string;
}

interface RunInfoSubset {
  runId?: string;
  scenario?: { compare?: { alpha?: number; thresholds?: Record<string, string> }; workloads?: unknown; timing?: unknown; probe?: unknown; nodes?: unknown };
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
export function setupDifferences(a: RunInfoSubset, b: RunInfoSubset): string[] {
  const out: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  for (const key of ['workloads', 'timing', 'probe', 'nodes'] as const) {
    if (a.scenario?.[key] !== undefined && b.scenario?.[key] !== undefined && !same(a.scenario[key], b.scenario[key])) out.push(`the scenarios differ in \`${key}\``);
  }
  for (const key of ['cpuModel', 'cpus', 'kernel'] as const) {
    if (a.host?.[key] !== undefined && b.host?.[key] !== undefined && a.host[key] !== b.host[key]) out.push(`the hosts differ in ${key} (${a.host[key]} vs ${b.host[key]})`);
  }
  for (const tool of ['criu', 'runc', 'redis']) {
    const x = a.versions?.[tool];
    const y = b.versions?.[tool];
    if (x !== undefined && y !== undefined && x !== y) out.push(`${tool} versions differ (${x} vs ${y})`);
  }
  return out;
}

function readRun(dir: string, role: string): RunFiles {
  const file = `${dir}/trials.csv`;
  if (!existsSync(file)) throw new CommandFailure(`migbench compare: ${role} ${dir}: no trials.csv there; give a results directory written by \`migbench run\``, EXIT_USAGE);
  const trials = parseTrialsCsv(readFileSync(file, 'utf8'));
  for (const column of ['workload', 'strategy', 'status', 'warmup']) {
    if (trials.length > 0 && !(column in trials[0]!)) throw new CommandFailure(`migbench compare: ${file}: column \`${column}\` is missing; is this a migbench trials.csv?`, EXIT_USAGE);
  }
  let info: RunInfoSubset = {};
  if (existsSync(`${dir}/run.json`)) info = JSON.parse(readFileSync(`${dir}/run.json`, 'utf8')) as RunInfoSubset;
  return { trials, info, compare: info.scenario?.compare, runId: info.runId };
}

export async function compareCommand(args: CompareArgs): Promise<number> {
  const baseline = readRun(args.baseline, 'baseline');
  const current = readRun(args.current, 'current');
  const problems: string[] = [];
  const entries: Record<string, string> = { ...(current.compare?.thresholds ?? {}) };
  for (const entry of args.thresholds) {
    const m = /^([a-z0-9_]+)=(.+)$/.exec(entry);
    if (!m) problems.push(`--threshold ${entry}: expected METRIC=THRESHOLD, e.g. downtime_ms=+10%`);
    else entries[m[1]!] = m[2]!;
  }
  const { thresholds, problems: thresholdProblems } = resolveThresholds(entries);
  problems.push(...thresholdProblems.map((p) => `--threshold ${p.entry}: ${p.message}`));
  const alpha = args.alpha ?? current.compare?.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) problems.push(`--alpha: expected a number between 0 and 1 (e.g. 0.05), found ${args.alpha}`);
  const unknown = (args.metrics ?? []).filter((m) => !(metricColumns as string[]).includes(m));
  if (unknown.length > 0) problems.push(`--metrics: unknown ${unknown.join(', ')}; expected trials.csv metric columns (${metricColumns.join(', ')})`);
  if (problems.length > 0) throw new CommandFailure(`migbench compare: ${problems.join('\n  ')}`, EXIT_USAGE);

  const comparison = compareRuns(baseline.trials, current.trials, {
    alpha,
    thresholds,
    ...(args.metrics ? { only: args.metrics as MetricColumn[] } : {}),
  });
  comparison.warnings.push(...setupDifferences(baseline.info, current.info).map((d) => `${d}: differences may come from the set-up, not the code`));
  const title = `migbench: ${current.runId ?? args.current} vs baseline ${baseline.runId ?? args.baseline}`;
  if (args.markdownFile) writeFileSync(args.markdownFile, comparisonMarkdown(comparison, title));
  if (args.csvFile) writeFileSync(args.csvFile, comparisonCsv(comparison));
  const text = args.format === 'markdown' ? comparisonMarkdown(comparison, title) : args.format === 'csv' ? comparisonCsv(comparison) : `${title}\n\n${comparisonTable(comparison)}\n`;
  process.stdout.write(text);
  return comparison.regression ? EXIT_REGRESSION : EXIT_OK;
}
