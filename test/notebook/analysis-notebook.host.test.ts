// notebooks/analysis.ipynb is a consumer of the CSV schema. Executed against a real results
// directory it must rebuild the summary the CLI prints (same medians), and a column it relies on
// that disappears must stop it with that column's name.
//
// The results directory: a copy of MIGBENCH_NOTEBOOK_RESULTS when set (any finished run), else a
// fresh `migbench run scenarios/smoke.yaml` (needs the host: this file belongs to the host project).
// Python comes from Debian's packages, installed on first use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { summarizeTrials, SUMMARY_METRICS, type SummaryRow } from '../../src/report/summary.ts';
import { trialsColumns } from '../../src/results/trials-csv.ts';
import { samplesColumns } from '../../src/results/samples-csv.ts';
import { eventsColumns } from '../../src/results/events-csv.ts';
import { aptInstall } from '../../src/setup/apt.ts';
import { migbench } from '../helpers/cli.ts';

const NOTEBOOK = resolve(import.meta.dirname, '..', '..', 'notebooks', 'analysis.ipynb');
// Debian's interpreter, the one its python3-* packages are for (a pyenv or venv python3 earlier on
// PATH would not see them); the python3 kernel it installs runs /usr/bin/python3 too.
const PYTHON = '/usr/bin/python3';
const PACKAGES = ['python3-pandas', 'python3-matplotlib', 'jupyter-nbconvert', 'python3-ipykernel'];
const RESULT_FILES = ['trials.csv', 'samples.csv', 'events.csv', 'run.json'];

const work = mkdtempSync(`${tmpdir()}/migbench-notebook-`);
const results = join(work, 'results');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pythonReady = () => spawnSync(PYTHON, ['-c', 'import pandas, matplotlib, nbconvert, ipykernel'], { stdio: 'ignore' }).status === 0;

function copyResults(from: string, to: string) {
  mkdirSync(to, { recursive: true });
  for (const file of RESULT_FILES) if (existsSync(join(from, file))) copyFileSync(join(from, file), join(to, file));
}

let executions = 0;
/** `jupyter nbconvert --execute` on the notebook with MIGBENCH_RESULTS=dir; stderr without colours. */
function executeNotebook(dir: string) {
  const r = spawnSync(PYTHON, ['-m', 'nbconvert', '--to', 'notebook', '--execute', '--output-dir', work, '--output', `executed-${++executions}`, NOTEBOOK], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, MIGBENCH_RESULTS: dir, MPLBACKEND: 'Agg', PYDEVD_DISABLE_FILE_VALIDATION: '1' },
  });
  return { code: r.status, stderr: `${r.error?.message ?? ''}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '') };
}

/** Executes the notebook on dir and compares its summary-notebook.csv with summarizeTrials() of dir/trials.csv. */
function expectSameSummary(dir: string) {
  const { code, stderr } = executeNotebook(dir);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });

  const [header, ...rows] = parse(readFileSync(join(dir, 'summary-notebook.csv'), 'utf8'), { skip_empty_lines: true }) as string[][];
  expect(header).toEqual(['workload', 'strategy', 'ok', 'failed', ...SUMMARY_METRICS.map((m) => `median_${m}`)]);
  // The anatomy's medians (the summary's "where it went"), one row per group in the same order.
  const [anatomyHeader, ...anatomyRows] = parse(readFileSync(join(dir, 'anatomy-notebook.csv'), 'utf8'), { skip_empty_lines: true }) as string[][];
  const parts = anatomyHeader!.slice(2).map((h) => /^median_anat_(.+)_ms$/.exec(h)![1]!);
  const fromNotebook: SummaryRow[] = rows.map(([workload = '', strategy = '', ok = '', failed = '', ...medians], row) => ({
    workload,
    strategy,
    ok: Number(ok),
    failed: Number(failed),
    medians: Object.fromEntries(SUMMARY_METRICS.map((m, i) => [m, medians[i] === '' || medians[i] === undefined ? undefined : Number(medians[i])])),
    anatomyMs: Object.fromEntries(parts.flatMap((part, i) => (anatomyRows[row]![i + 2] === '' ? [] : [[part, Number(anatomyRows[row]![i + 2])]]))),
  }));
  const expected = summarizeTrials(readFileSync(join(dir, 'trials.csv'), 'utf8'));
  expect(
    expected.some((r) => r.medians.downtime_ms !== undefined),
    'the results have a measured downtime to compare',
  ).toBe(true);
  expect(fromNotebook).toEqual(expected);
}

const notebookJson = () =>
  JSON.parse(readFileSync(NOTEBOOK, 'utf8')) as { cells: { cell_type: string; source: string[]; outputs?: unknown[]; execution_count?: number | null }[] };

beforeAll(async () => {
  if (!pythonReady()) await aptInstall(PACKAGES);
  expect(pythonReady(), `${PYTHON} cannot import pandas, matplotlib, nbconvert, ipykernel after installing ${PACKAGES.join(' ')}`).toBe(true);

  const source = process.env.MIGBENCH_NOTEBOOK_RESULTS;
  if (source) {
    copyResults(source, results); // a copy: the notebook writes summary-notebook.csv into it
  } else {
    const { code, stderr } = migbench(['run', 'scenarios/smoke.yaml', '--out', results]);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  }
}, 900_000);

describe('notebooks/analysis.ipynb', () => {
  it('is committed with its outputs cleared', () => {
    for (const cell of notebookJson().cells.filter((c) => c.cell_type === 'code')) {
      expect({ outputs: cell.outputs, execution_count: cell.execution_count }).toEqual({ outputs: [], execution_count: null });
    }
  });

  it('relies only on columns the CSV writers write', () => {
    // REQUIRED_COLUMNS in the notebook is a dict literal that is also JSON.
    const source = notebookJson()
      .cells.map((c) => c.source.join(''))
      .join('\n');
    const literal = /^REQUIRED_COLUMNS = (\{[\s\S]*?\n\})/m.exec(source)?.[1];
    expect(literal, 'REQUIRED_COLUMNS = {...} in the notebook').toBeDefined();
    const required = JSON.parse(literal!) as Record<string, string[]>;
    const written: Record<string, string[]> = { 'trials.csv': trialsColumns, 'samples.csv': samplesColumns, 'events.csv': eventsColumns };
    expect(Object.keys(required).sort()).toEqual(Object.keys(written).sort());
    for (const [file, columns] of Object.entries(required)) {
      expect(
        columns.filter((c) => !written[file]!.includes(c)),
        `columns the notebook reads that ${file} no longer has`,
      ).toEqual([]);
    }
    expect(
      SUMMARY_METRICS.filter((m) => !required['trials.csv']!.includes(m)),
      'summary metrics the notebook does not check',
    ).toEqual([]);
  });

  it('rebuilds the summary the CLI prints from the same trials.csv', { timeout: 300_000 }, () => {
    expectSameSummary(results);
  });

  it('rebuilds it also with repetitions, warm-ups and failed trials', { timeout: 300_000 }, () => {
    // The smoke run has one ok trial per strategy, where any aggregate is the median; this derived
    // trials.csv (same schema) has an even count of ok values, and failed trials and warm-ups whose
    // values would move the median if they were counted.
    const dir = join(work, 'varied');
    copyResults(results, dir);
    const rows = parse(readFileSync(join(results, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    let next = Math.max(...rows.map((r) => Number(r.trial)));
    const copy = (row: Record<string, string>, factor: number, changes: Record<string, string> = {}) => ({
      ...row,
      ...Object.fromEntries(SUMMARY_METRICS.filter((m) => row[m] !== '').map((m) => [m, (Number(row[m]) * factor).toFixed(m.endsWith('_ms') ? 3 : 0)])),
      trial: String(++next),
      ...changes,
    });
    const failed = { status: 'failed', error: 'injected by the test', failed_phase: 'migrate' };
    const varied = rows.flatMap((row) =>
      row.warmup === 'true' ? [row] : [row, copy(row, 1.37), copy(row, 0.61), copy(row, 2.9), copy(row, 100, failed), copy(row, 0.01, { warmup: 'true' })],
    );
    varied.push(copy(rows[0]!, 1, { ...failed, strategy: 'never-ok', failed_phase: 'deploy' })); // no samples, no medians
    writeFileSync(join(dir, 'trials.csv'), stringify(varied, { header: true, columns: Object.keys(rows[0]!) }));
    expectSameSummary(dir);
  });

  it('stops with the name of a column trials.csv lacks', { timeout: 300_000 }, () => {
    const broken = join(work, 'no-downtime');
    copyResults(results, broken);
    const trials = parse(readFileSync(join(results, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    const columns = Object.keys(trials[0]!).filter((c) => c !== 'downtime_ms');
    writeFileSync(join(broken, 'trials.csv'), stringify(trials, { header: true, columns }));

    const { code, stderr } = executeNotebook(broken);
    expect(code).not.toBe(0);
    // The raised message, not the cell's source (which the traceback also shows).
    expect(stderr).toMatch(/SchemaError: trials\.csv \(\S+\) lacks column\(s\) downtime_ms, which this notebook relies on/);
    expect(existsSync(join(broken, 'summary-notebook.csv'))).toBe(false);
  });
});
