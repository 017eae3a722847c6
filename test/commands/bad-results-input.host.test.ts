// Bad input everywhere a user gives it: a subnet that is not an address, an --out that cannot take
// results, and results directories that compare and report cannot trust (missing columns,
// non-numeric cells, a torn last line, an empty trials.csv, a run.json that is not JSON). Each is one
// message naming the file, the line or field and the fix; exit 2; no stack trace; nothing written.
import { afterAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { migbench } from '../helpers/cli.ts';
import { ResultsDir } from '../../src/results/results-dir.ts';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import type { TrialResult } from '../../src/model/trial-result.ts';
import type { SampleError } from '../../src/model/timeline.ts';

const root = mkdtempSync(`${tmpdir()}/migbench-bad-results-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function trial(n: number): TrialResult {
  const samples = Array.from({ length: 200 }, (_, i) => ({
    probe: 'redis',
    scheduledAt: i * 5,
    sentAt: i * 5,
    doneAt: i * 5 + 1,
    ok: i < 100 || i > 120,
    error: (i < 100 || i > 120 ? '' : 'timeout') as SampleError,
  }));
  return {
    runId: 'r',
    trial: n,
    workload: 'redis',
    strategy: 'criu',
    repetition: n,
    warmup: false,
    status: 'ok',
    startedAt: new Date(0),
    timeline: { triggerAt: 490, samples, events: [] },
    probeIntervalMs: 5,
    strategyFinishedAt: 700,
    probeRecords: [],
  };
}

/** A valid results directory, written by the real writer. */
function goodRun(name: string): string {
  const dir = `${root}/${name}`;
  const results = new ResultsDir(dir);
  results.open();
  for (let n = 1; n <= 3; n++) results.appendTrial(trial(n), computeTrialMetrics(trial(n)).metrics);
  writeFileSync(`${dir}/run.json`, '{"runId":"r"}\n');
  return dir;
}

const good = goodRun('good');

/** A copy of the good run with trials.csv or run.json changed by `edit`. */
function broken(name: string, file: 'trials.csv' | 'run.json', edit: (text: string) => string): string {
  const dir = `${root}/${name}`;
  cpSync(good, dir, { recursive: true });
  writeFileSync(`${dir}/${file}`, edit(readFileSync(`${dir}/${file}`, 'utf8')));
  return dir;
}

const cases: { name: string; file: 'trials.csv' | 'run.json'; edit: (t: string) => string; says: RegExp }[] = [
  {
    name: 'missing-columns',
    file: 'trials.csv',
    edit: (t) => t.replace(/^run_id,trial,workload,strategy/, 'run_id,trial,app,strategy'),
    says: /header: column `workload` missing/,
  },
  {
    name: 'non-numeric',
    file: 'trials.csv',
    edit: (t) => {
      const lines = t.split('\n');
      const h = lines[0]!.split(',');
      const i = h.indexOf('downtime_ms');
      const c = lines[2]!.split(',');
      c[i] = 'fast';
      lines[2] = c.join(',');
      return lines.join('\n');
    },
    says: /line 3, column `downtime_ms`: "fast" is not a number/,
  },
  { name: 'torn', file: 'trials.csv', edit: (t) => t.slice(0, t.length - 40), says: /line 4 is torn/ },
  { name: 'empty', file: 'trials.csv', edit: () => '', says: /trials\.csv: empty/ },
  { name: 'not-json', file: 'run.json', edit: (t) => t.slice(0, 5), says: /run\.json: not valid JSON/ },
];

it.each(cases)('compare and report refuse a results directory with $name', ({ name, file, edit, says }) => {
  const dir = broken(name, file, edit);
  const before = readdirSync(dir).sort();
  for (const args of [
    ['compare', good, dir],
    ['compare', dir, good],
    ['report', dir],
  ]) {
    const { code, stderr } = migbench(args);
    expect({ args, code }).toEqual({ args, code: 2 });
    expect(stderr).toMatch(says);
    expect(stderr).toContain(`${dir}/${file}`);
    expect(stderr).not.toMatch(/\n\s+at /);
  }
  expect(readdirSync(dir).sort()).toEqual(before); // no report.html, nothing else
});

it('the good directory passes (the checks above are not blanket refusals)', () => {
  expect(migbench(['compare', good, good]).code).toBe(0);
});

it('validate rejects a subnet whose octets are not 0–255', () => {
  const file = `${root}/subnet.yaml`;
  writeFileSync(file, 'workloads: [{ type: redis }]\nstrategies: [criu]\nlocal: { subnet: 300.1.0.0/24 }\n');
  const { code, stderr } = migbench(['validate', file]);
  expect(code).toBe(2);
  expect(stderr).toContain('local.subnet');
  expect(stderr).toContain('0–255');
});

it('run refuses an --out that is a file or under one, before anything starts', () => {
  const file = `${root}/a-file`;
  writeFileSync(file, 'x');
  for (const out of [file, `${file}/sub`]) {
    const { code, stderr } = migbench(['run', 'scenarios/smoke.yaml', '--out', out]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file} is a file, not a directory`);
    expect(stderr).not.toMatch(/\n\s+at /);
  }
  expect(readFileSync(file, 'utf8')).toBe('x');
});

it('run refuses an --out on a read-only file system', () => {
  const ro = `${root}/ro`;
  mkdirSync(ro);
  // Root may write anywhere else, so the unwritable directory is a read-only mount.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'migbench-test-ro', ro]);
  try {
    const { code, stderr } = migbench(['run', 'scenarios/smoke.yaml', '--out', `${ro}/results`]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${ro} is not writable`);
    expect(existsSync(`${ro}/results`)).toBe(false);
  } finally {
    execFileSync('umount', [ro]);
  }
});
