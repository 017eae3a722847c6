// A sweep's slope is the headline figure of "how does the cost grow": least squares over every ok,
// measured trial, x in GiB of the measured data set. Checked on hand-made points with exact values.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fitLine, formatSweepFits, sweepFits } from '../../src/report/slope.ts';
import { parseTrialsCsv, summarizeResultsDir } from '../../src/report/summary.ts';
import { ResultsDir } from '../../src/results/results-dir.ts';
import { sampleTrial } from '../results/fixtures.ts';

const GIB = 2 ** 30;

describe('fitLine', () => {
  it('is ordinary least squares: (1,2) (2,4) (3,7) → y = 2.5 x − 2/3, r² = 75/76', () => {
    const fit = fitLine([
      [1, 2],
      [2, 4],
      [3, 7],
    ])!;
    expect(fit.slope).toBeCloseTo(2.5, 12);
    expect(fit.intercept).toBeCloseTo(-2 / 3, 12);
    expect(fit.rSquared).toBeCloseTo(75 / 76, 12);
    expect(fit.n).toBe(3);
  });

  it('gives r² = 1 for points on a line, also a flat one', () => {
    expect(
      fitLine([
        [0, 10],
        [1, 30],
        [4, 90],
      ]),
    ).toMatchObject({ slope: 20, intercept: 10, rSquared: 1 });
    expect(
      fitLine([
        [1, 5],
        [2, 5],
        [3, 5],
      ]),
    ).toMatchObject({ slope: 0, intercept: 5, rSquared: 1 });
  });

  it('fits nothing with fewer than two distinct x', () => {
    expect(fitLine([])).toBeUndefined();
    expect(
      fitLine([
        [1, 5],
        [1, 9],
      ]),
    ).toBeUndefined();
  });
});

const header = 'run_id,trial,workload,strategy,repetition,status,warmup,sweep_dataset_mib,sweep_keys,dataset_bytes,downtime_ms';
const row = (trial: number, workload: string, strategy: string, status: string, warmup: boolean, mib: string, bytes: string, downtime: string) =>
  `r,${trial},${workload},${strategy},1,${status},${warmup},${mib},,${bytes},${downtime}`;
const CSV = [
  header,
  row(1, 'redis-1024', 'criu', 'ok', false, '1024', String(GIB), '100.000'),
  row(2, 'redis-1024', 'criu', 'ok', false, '1024', String(GIB), '110.000'),
  row(3, 'redis-2048', 'criu', 'ok', false, '2048', String(2 * GIB), '300.000'),
  // Left out: a warm-up, a failed trial, and a workload that is not swept.
  row(4, 'redis-2048', 'criu', 'ok', true, '2048', String(2 * GIB), '9999.000'),
  row(5, 'redis-1024', 'criu', 'failed', false, '1024', String(GIB), '1.000'),
  row(6, 'other', 'criu', 'ok', false, '', String(GIB), '5.000'),
  // redeploy: no measured size, so x is the swept value itself (ms per MiB).
  row(7, 'redis-1024', 'redeploy', 'ok', false, '1024', '', '1000.000'),
  row(8, 'redis-2048', 'redeploy', 'ok', false, '2048', '', '2024.000'),
  '',
].join('\n');

describe('sweepFits', () => {
  const fits = sweepFits(parseTrialsCsv(CSV));

  it('groups swept trials by workload (without the -<value> suffix) × strategy, leaving out warm-ups, failures and unswept workloads', () => {
    expect(fits.map((f) => [f.workload, f.strategy, f.parameter])).toEqual([
      ['redis', 'criu', 'sweep_dataset_mib'],
      ['redis', 'redeploy', 'sweep_dataset_mib'],
    ]);
  });

  it('takes the nearest-rank median per value and fits every trial against dataset_bytes in GiB', () => {
    const criu = fits[0]!;
    expect(criu.medians).toEqual([
      { value: 1024, downtimeMs: 100, trials: 2 },
      { value: 2048, downtimeMs: 300, trials: 1 },
    ]);
    expect(criu.xUnit).toBe('GiB');
    // (1,100) (1,110) (2,300): slope 195 ms/GiB, intercept −90 ms, r² = 1 − 50/25400.
    expect(criu.fit!.slope).toBeCloseTo(195, 9);
    expect(criu.fit!.intercept).toBeCloseTo(-90, 9);
    expect(criu.fit!.rSquared).toBeCloseTo(1 - 50 / 25_400, 12);
    expect(criu.fit!.n).toBe(3);
    // Through the medians: (1,100) (2,300) — the slow trial at 1 GiB no longer counts.
    expect(criu.medianFit).toMatchObject({ slope: 200, intercept: -100, rSquared: 1, n: 2 });
  });

  it('fits against the swept value when a trial has no measured size', () => {
    const redeploy = fits[1]!;
    expect(redeploy.xUnit).toBe('sweep_dataset_mib');
    expect(redeploy.fit).toMatchObject({ slope: 1, intercept: -24, rSquared: 1, n: 2 });
  });

  it('prints one table per swept workload: a row per strategy, medians per value, slope with its unit', () => {
    const text = formatSweepFits(fits.slice(0, 1));
    expect(text.split('\n')).toEqual([
      'sweep of redis (sweep_dataset_mib): median downtime_ms per value; least-squares line over every ok trial (slope, intercept, r²) and over the medians, x = dataset_bytes in GiB',
      'strategy  sweep_dataset_mib=1024  sweep_dataset_mib=2048  slope ms/GiB  intercept ms     r²  trials  slope of medians ms/GiB',
      'criu                       100.0                   300.0         195.0         -90.0  0.998       3                    200.0',
    ]);
  });

  it('is empty for a run without a sweep', () => {
    expect(sweepFits(parseTrialsCsv(`${header}\n${row(1, 'redis', 'criu', 'ok', false, '', '5', '1.000')}\n`))).toEqual([]);
    expect(formatSweepFits([])).toBe('');
  });
});

describe('the end-of-run summary of a swept run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migbench-slope-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows the summary table with the sweep table, read back from the trials.csv the writer produced', () => {
    const results = new ResultsDir(join(dir, 'run'));
    results.open();
    const swept = (trial: number, mib: number, bytes: number, downtimeMs: number) => {
      const t = sampleTrial({ trial, workload: `redis-${mib}`, sweep: { parameter: 'datasetMiB', value: mib }, datasetBytes: bytes });
      results.appendTrial(t, { downtime_ms: downtimeMs });
    };
    swept(1, 64, GIB / 16, 200);
    swept(2, 128, GIB / 8, 250);
    const text = summarizeResultsDir(results.dir);
    expect(text).toMatch(/^workload\s+strategy/);
    // 50 ms more for 1/16 GiB more: 800 ms/GiB.
    expect(text).toContain('\n\nsweep of redis (sweep_dataset_mib)');
    expect(text).toMatch(/\ncriu\s+200\.0\s+250\.0\s+800\.0\s+150\.0\s+1\.000\s+2\s+800\.0$/);
  });
});
