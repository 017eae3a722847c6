// The end-of-run summary reads trials.csv back; it must leave out warm-ups, keep failed trials out
// of the medians (but count them), and show a measured median, never an interpolated one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSummary, summarizeResultsDir, summarizeTrials } from '../../src/report/summary.ts';
import { ResultsDir } from '../../src/results/results-dir.ts';
import { sampleTrial } from '../results/fixtures.ts';

const TRIALS = `run_id,trial,workload,strategy,repetition,status,error,warmup,downtime_ms,downtime_upper_ms,migration_ms,criu_frozen_ms,failed_samples,redis_acked_writes_lost
r,1,redis,criu,1,ok,,true,999.000,999.000,999.000,999.000,999,9
r,2,redis,redeploy,1,ok,,true,999.000,999.000,999.000,,999,9
r,3,redis,redeploy,1,ok,,false,1500.000,1505.000,3000.000,,300,0
r,4,redis,criu,1,ok,,false,10.000,15.000,100.000,80.000,2,0
r,5,redis,criu,2,failed,"boom, ""x""",false,1.000,1.000,1.000,1.000,1,1
r,6,redis,criu,3,ok,,false,30.000,35.000,300.000,90.000,6,0
r,7,redis,redeploy,2,failed,timeout,false,,,,,,
r,8,redis,criu,4,ok,,false,20.000,25.000,200.000,70.000,4,0
r,9,redis,criu,5,ok,,false,40.000,45.000,400.000,60.000,8,0
r,10,big,criu,1,ok,,true,1.000,1.000,1.000,1.000,1,0
`;

describe('summarizeTrials', () => {
  const rows = summarizeTrials(TRIALS);
  const criu = rows.find((r) => r.strategy === 'criu' && r.workload === 'redis')!;
  const redeploy = rows.find((r) => r.strategy === 'redeploy')!;

  it('groups by workload × strategy, sorted by name (not by the shuffled order of the trials), leaving warm-up-only groups out', () => {
    expect(rows.map((r) => `${r.workload}×${r.strategy}`)).toEqual(['redis×criu', 'redis×redeploy']);
  });

  it('counts ok and failed trials, warm-ups in neither', () => {
    expect([criu.ok, criu.failed]).toEqual([4, 1]);
    expect([redeploy.ok, redeploy.failed]).toEqual([1, 1]);
  });

  it('takes medians of ok trials only, by nearest rank (10, 20, 30, 40 → 20, not 25)', () => {
    expect(criu.medians).toMatchObject({
      downtime_ms: 20,
      downtime_upper_ms: 25,
      migration_ms: 200,
      criu_frozen_ms: 70,
      failed_samples: 4,
      redis_acked_writes_lost: 0,
    });
    // Neither the warm-up's 999 nor the failed trial's 1 may move them.
    expect(redeploy.medians).toMatchObject({ downtime_ms: 1500, migration_ms: 3000, failed_samples: 300 });
  });

  it('has no median for a column that is empty in every ok trial', () => {
    expect(redeploy.medians.criu_frozen_ms).toBeUndefined();
  });

  it('is empty for a trials.csv with only a header', () => {
    expect(summarizeTrials(TRIALS.split('\n')[0]! + '\n')).toEqual([]);
  });
});

describe('formatSummary', () => {
  const lines = formatSummary(summarizeTrials(TRIALS)).split('\n');

  it('has a header naming each median, then one line per group', () => {
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^workload {2}strategy {2}ok {2}failed {2}median downtime_ms {2}median downtime_upper_ms {2}median migration_ms {2}median criu_frozen_ms /,
    );
    expect(lines[0]).toContain('median redis_acked_writes_lost');
  });

  it('writes ms with one decimal, counts as integers and — for no value, right-aligned under the header', () => {
    const cells = (line: string) => line.trim().split(/ {2,}/);
    expect(cells(lines[1]!)).toEqual(['redis', 'criu', '4', '1', '20.0', '25.0', '200.0', '70.0', '4', '0']);
    expect(cells(lines[2]!)).toEqual(['redis', 'redeploy', '1', '1', '1500.0', '1505.0', '3000.0', '—', '300', '0']);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it('shows the columns of the workloads in the run only', () => {
    expect(lines[0]).not.toContain('video_');
    const mixed = `run_id,trial,workload,strategy,repetition,status,error,warmup,downtime_ms,downtime_upper_ms,migration_ms,criu_frozen_ms,failed_samples,redis_acked_writes_lost,video_max_stall_ms,video_frames_lost
r,1,redis,criu,1,ok,,false,10.000,15.000,100.000,80.000,2,0,,
r,2,redis,redeploy,1,ok,,false,20.000,25.000,30.000,,4,0,,
r,3,video,criu,1,ok,,false,300.000,310.000,400.000,60.000,30,,412.500,0
`;
    const [header, , , video] = formatSummary(summarizeTrials(mixed)).split('\n');
    expect(header).toContain('median video_max_stall_ms  median video_frames_lost');
    expect(header).not.toContain('training_');
    expect(video!.trim().split(/ {2,}/)).toEqual(['video', 'criu', '1', '0', '300.0', '310.0', '400.0', '60.0', '30', '—', '412.5', '0']);
  });
});

describe('summarizeResultsDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migbench-summary-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the trials.csv the writer wrote (the column names agree)', () => {
    const results = new ResultsDir(join(dir, 'run'));
    results.open();
    results.appendTrial(sampleTrial({ trial: 1, warmup: true }), { downtime_ms: 500 });
    results.appendTrial(sampleTrial({ trial: 2 }), { downtime_ms: 12.34, migration_ms: 20, failed_samples: 3 });
    results.appendTrial(sampleTrial({ trial: 3, status: 'failed', error: 'x' }), {});
    const [header, row] = summarizeResultsDir(join(dir, 'run')).split('\n');
    expect(header).toContain('median downtime_ms');
    // No trial has redis_acked_writes_lost: its column is left out.
    expect(row!.trim().split(/ {2,}/)).toEqual(['redis', 'criu', '1', '1', '12.3', '—', '20.0', '—', '3']);
  });
});

it('says so when there is nothing to summarize instead of printing an empty table', () => {
  expect(formatSummary(summarizeTrials('run_id,trial,workload,strategy,repetition,status,warmup\nr,1,redis,criu,1,ok,true\n'))).toMatch(/no measured trials/);
});
