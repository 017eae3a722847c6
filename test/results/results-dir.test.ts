// The results directory on disk: headers once, a trial's rows appended to all three CSVs, never
// over an existing run, and run.json replaced without ever leaving half a file.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { ResultsDir } from '../../src/results/results-dir.ts';
import { trialsColumns } from '../../src/results/trials-csv.ts';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import type { RunInfo } from '../../src/results/run-json.ts';
import { parseScenario } from '../../src/scenario/load.ts';
import { sampleTrial } from './fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'migbench-results-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
const freshDir = () => join(root, `run-${++counter}`, 'nested');
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const csv = (dir: string, file: string) => parse(read(dir, file), { columns: true }) as Record<string, string>[];

describe('ResultsDir', () => {
  it('creates the directory and writes the headers', () => {
    const dir = freshDir();
    new ResultsDir(dir).open();
    expect(readdirSync(dir).sort()).toEqual(['evacuations.csv', 'events.csv', 'frames.csv', 'progress.csv', 'samples.csv', 'trials.csv']);
    expect(read(dir, 'evacuations.csv')).toBe(
      'run_id,evacuation,strategy,repetition,warmup,pods,concurrency,targets,total_ms,downtime_p50_ms,downtime_p99_ms,downtime_max_ms,pods_failed,bytes_moved,harness_cpu_ms,harness_cpu_pct\n',
    );
    expect(read(dir, 'frames.csv')).toBe('trial,t_ms,connection,epoch,seq,server_ts_us\n');
    expect(read(dir, 'progress.csv')).toBe('trial,t_ms,step,started_step,pid,process_start\n');
    expect(read(dir, 'samples.csv')).toBe('trial,probe,t_ms,ok,latency_ms,error,send_lag_ms\n');
    expect(read(dir, 'events.csv')).toBe('trial,t_ms,source,event,detail\n');
    expect(read(dir, 'trials.csv')).toBe(`${trialsColumns.join(',')}\n`);
  });

  it('refuses a directory that already holds results, and leaves them alone', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'trials.csv'), 'precious\n');
    expect(() => new ResultsDir(dir).open()).toThrow(/already holds results/);
    expect(read(dir, 'trials.csv')).toBe('precious\n');
    expect(existsSync(join(dir, 'samples.csv'))).toBe(false);
  });

  it('refuses to open the same run twice', () => {
    const dir = freshDir();
    new ResultsDir(dir).open();
    expect(() => new ResultsDir(dir).open()).toThrow(/already holds results/);
  });

  it('appends each trial to samples, events and trials, headers only once', () => {
    const dir = freshDir();
    const results = new ResultsDir(dir);
    results.open();
    const first = sampleTrial();
    const second = sampleTrial({
      trial: 4,
      strategy: 'redeploy',
      status: 'failed',
      error: 'pod not ready, "redis" after 60 s\nlast log: x',
      failedPhase: 'migrate',
      strategyFinishedAt: undefined,
    });
    results.appendTrial(first, computeTrialMetrics(first).metrics);
    results.appendTrial(second, computeTrialMetrics(second).metrics);

    const trials = csv(dir, 'trials.csv');
    expect(trials.map((r) => [r.trial, r.strategy, r.status])).toEqual([
      ['3', 'criu', 'ok'],
      ['4', 'redeploy', 'failed'],
    ]);
    expect(Object.keys(trials[0]!)).toEqual(trialsColumns);
    expect(trials[1]!.error).toBe(second.status === 'failed' ? second.error : undefined);
    expect(trials[0]!.migration_ms).toBe('20.000');
    expect(trials[1]!.migration_ms).toBe('');
    expect(trials[0]!.started_at).toBe('2025-01-02T03:04:05.067Z');

    const samples = csv(dir, 'samples.csv');
    expect(samples.map((r) => [r.trial, r.t_ms, r.ok])).toEqual([
      ['3', '-10.000', 'true'],
      ['3', '-5.000', 'true'],
      ['3', '5.000', 'false'],
      ['4', '-10.000', 'true'],
      ['4', '-5.000', 'true'],
      ['4', '5.000', 'false'],
    ]);
    const events = csv(dir, 'events.csv');
    expect(events).toHaveLength(6);
    expect(events.filter((e) => e.event === 'trigger').map((e) => [e.trial, e.t_ms])).toEqual([
      ['3', '0.000'],
      ['4', '0.000'],
    ]);
  });

  it('writes run.json as valid JSON, replacing it atomically', () => {
    const dir = freshDir();
    const results = new ResultsDir(dir);
    results.open();
    const { scenario } = parseScenario('s.yaml', 'workloads: [{ type: redis }]\nstrategies: [criu]\n');
    const info: RunInfo = {
      runId: 'r1',
      scenarioFile: 's.yaml',
      scenario,
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: null,
      host: { hostname: 'h', os: 'Debian', kernel: '6.1', cpuModel: 'cpu', cpus: 2, memoryBytes: 1, node: 'v24' },
      versions: { criu: '4.2.1' },
      gitCommit: null,
      argv: ['run', 's.yaml'],
      trials: { planned: 6, ok: 0, failed: 0 },
    };
    results.writeRunJson(info);
    expect(JSON.parse(read(dir, 'run.json'))).toEqual(info);
    results.writeRunJson({ ...info, endedAt: '2025-01-01T00:01:00.000Z', trials: { planned: 6, ok: 5, failed: 1 } });
    const text = read(dir, 'run.json');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ endedAt: '2025-01-01T00:01:00.000Z', trials: { ok: 5, failed: 1 } });
    expect(existsSync(join(dir, '.run.json.tmp'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['evacuations.csv', 'events.csv', 'frames.csv', 'progress.csv', 'run.json', 'samples.csv', 'trials.csv']);
  });
});
