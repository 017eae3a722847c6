// The nightly history: three runs appended through `migbench compare --append-history`, a fourth
// judged against them (one cell made slower), and the report's history chart with the fourth run
// marked. Results directories are written by the real writers; the judgement's numbers are exact.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { migbench } from '../helpers/cli.ts';
import { ResultsDir } from '../../src/results/results-dir.ts';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import { sampleTrial } from '../results/fixtures.ts';
import type { RunInfo } from '../../src/results/run-json.ts';
import { readHistory, summarizeRun, type HistoryRow } from '../../src/history/history.ts';
import { judgeAgainstHistory } from '../../src/history/judge.ts';
import { resolveGate } from '../../src/compare/thresholds.ts';
import { historyChartsSvg } from '../../src/report/charts/history.ts';

const root = mkdtempSync(`${tmpdir()}/migbench-history-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A run of 6 criu and 6 redeploy trials; each trial's strategy finishes `migrationMs[i]` after the trigger. */
function writeRun(name: string, day: number, criuMs: number[], redeployMs: number[]): string {
  const dir = `${root}/${name}`;
  const results = new ResultsDir(dir);
  results.open();
  results.writeRunJson({
    runId: name,
    startedAt: `2026-12-0${day}T02:17:00.000Z`,
    gitCommit: 'abc',
    scenario: { name: 'nightly', compare: { thresholds: { migration_ms: '+10%' } } },
  } as unknown as RunInfo);
  let n = 0;
  for (const [strategy, list] of [
    ['criu', criuMs],
    ['redeploy', redeployMs],
  ] as const) {
    for (const ms of list) {
      const t = sampleTrial({
        runId: name,
        trial: ++n,
        strategy,
        repetition: n,
        strategyFinishedAt: 5000.25 + ms,
        hostLoad: { loadavg1: 1, cpuBusyPct: 30, otherCpuPct: 4, stealPct: 0 },
      });
      results.appendTrial(t, computeTrialMetrics(t).metrics);
    }
  }
  return dir;
}

const history = `${root}/history.csv`;
const nights = [
  writeRun('night-1', 1, [400, 405, 410, 415, 420, 425], [200, 202, 204, 206, 208, 210]),
  writeRun('night-2', 2, [410, 415, 420, 425, 430, 435], [201, 203, 205, 207, 209, 211]),
  writeRun('night-3', 3, [390, 395, 400, 405, 410, 415], [199, 201, 203, 205, 207, 209]),
];
// Night 4: criu's migration 30 % slower than usual, redeploy as usual.
const night4 = writeRun('night-4', 4, [530, 535, 540, 545, 550, 555], [200, 202, 204, 206, 208, 210]);

describe('through the CLI', () => {
  it('appends three runs (once each), then judges a fourth: criu migration_ms is the regression', { timeout: 120_000 }, () => {
    for (const dir of nights) expect(migbench(['compare', dir, '--history', history, '--append-history']).code).toBe(0);
    // The same run again is not appended twice.
    expect(migbench(['compare', nights[2]!, '--history', history, '--append-history']).stdout).toMatch(/already in/);
    const rows = readHistory(history).rows;
    expect([...new Set(rows.map((r) => r.runId))]).toEqual(['night-1', 'night-2', 'night-3']);
    expect(rows.find((r) => r.runId === 'night-2' && r.strategy === 'criu' && r.metric === 'migration_ms')).toMatchObject({
      n: 6,
      median: 420,
      hostOtherCpuPct: 4,
    });

    const { code, stdout } = migbench(['compare', night4, '--history', history]);
    expect(code).toBe(3);
    expect(stdout).toMatch(/criu\s+migration_ms\s+3\s+410\.0 ± 14\.8 \[400\.0, 420\.0\]\s+540\.0 .* \+31\.7% REGRESSION/);
    expect(stdout).toMatch(/redeploy\s+migration_ms\s+3 .*~/);
  });

  it('the report of the fourth run plots the history with the fourth run marked', { timeout: 120_000 }, () => {
    migbench(['compare', night4, '--history', history, '--append-history']);
    const out = `${root}/report.html`;
    expect(migbench(['report', night4, '--history', history, '--out', out]).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<h2 id="history">History</h2>');
    expect(html).toMatch(/<figure class="chart" id="history-migration_ms"><svg/);
    expect(html).toContain('night-4 (2026-12-04T02:17:00.000Z), redis · criu: median migration_ms 540.0 — this run');
  });

  it('bad input: a history that is not one, or --append-history without --history: exit 2', { timeout: 60_000 }, () => {
    const bad = migbench(['compare', night4, '--history', `${root}/night-1/trials.csv`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/column\(s\) .* missing; give a file written by `migbench compare --append-history`/);
    expect(migbench(['compare', nights[0]!, night4, '--append-history']).code).toBe(2);
  });
});

describe('judgeAgainstHistory (exact values)', () => {
  const row = (runId: string, median: number): HistoryRow => ({
    runId,
    startedAt: '',
    gitCommit: '',
    scenario: 's',
    workload: 'redis',
    strategy: 'criu',
    metric: 'downtime_ms',
    n: 6,
    median,
  });
  const { thresholds, gated } = resolveGate({ downtime_ms: '+10%' }, {});
  const past = [300, 310, 320, 330, 340, 350, 360].map((m, i) => row(`r${i}`, m));
  it.each([
    // median 330, MAD 20 → spread 29.652; z = (x − 330) / (29.652 · √(1 + 1/7)); p from SciPy's norm.sf, computed once
    { current: 335, z: 0.1577, p: 0.8747, verdict: 'same' },
    { current: 450, z: 3.7856, p: 0.000153, verdict: 'regression' },
    { current: 355, z: 0.7887, p: 0.4303, verdict: 'same' },
  ])('this run $current ms → z $z, p $p: $verdict', ({ current, z, p, verdict }) => {
    const j = judgeAgainstHistory([row('now', current)], past, { alpha: 0.05, thresholds, gated, lastRuns: 20 }).rows[0]!;
    expect(j).toMatchObject({ runs: 7, historyMedian: 330, historyMin: 300, historyMax: 360, verdict });
    expect(j.historySpread).toBeCloseTo(29.652, 6);
    expect(j.z).toBeCloseTo(z, 3);
    expect(j.p).toBeCloseTo(p, 4);
  });
  it('only the last N runs count', () => {
    const j = judgeAgainstHistory([row('now', 335)], past, { alpha: 0.05, thresholds, gated, lastRuns: 3 }).rows[0]!;
    expect(j).toMatchObject({ runs: 3, historyMedian: 350 });
  });
  it('too short a history: a note, no verdict', () => {
    const j = judgeAgainstHistory([row('now', 900)], past.slice(0, 2), { alpha: 0.05, thresholds, gated, lastRuns: 20 }).rows[0]!;
    expect(j.verdict).toBe('same');
    expect(j.note).toMatch(/only 2 earlier run/);
  });
  it('summarizeRun keeps ok, measured trials only', () => {
    const trials = [
      { workload: 'redis', strategy: 'criu', status: 'ok', warmup: 'false', downtime_ms: '300' },
      { workload: 'redis', strategy: 'criu', status: 'ok', warmup: 'true', downtime_ms: '9000' },
      { workload: 'redis', strategy: 'criu', status: 'failed', warmup: 'false', downtime_ms: '' },
    ];
    expect(summarizeRun(trials, { runId: 'x', startedAt: '', gitCommit: '', scenario: 's' })).toEqual([
      { runId: 'x', startedAt: '', gitCommit: '', scenario: 's', workload: 'redis', strategy: 'criu', metric: 'downtime_ms', n: 1, median: 300 },
    ]);
  });
  it('the chart renders one SVG per metric with history, none for a scenario without', async () => {
    const charts = await historyChartsSvg({ rows: [...past, row('now', 450)], currentRunId: 'now', scenario: 's' }, ['downtime_ms', 'migration_ms']);
    expect(charts.map((c) => c.metric)).toEqual(['downtime_ms']);
    expect(charts[0]!.svg).toMatch(/^<svg/);
    expect(await historyChartsSvg({ rows: past, currentRunId: 'now', scenario: 'other' })).toEqual([]);
  });
});
