// The results directory's CSV files come from one list of writers of one shape: the list's order is
// the order a trial's rows are appended (trials.csv last: a crash mid-trial never leaves a trials.csv
// row without its samples), every column is documented, and a writer is a pure function from a
// trial to text, checked here by string equality.
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import type { UnsupportedTrial } from '../../src/model/trial-result.ts';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import { csvHeader } from '../../src/results/csv-writer.ts';
import { samplesCsv } from '../../src/results/samples-csv.ts';
import { trialsColumns, trialsCsv } from '../../src/results/trials-csv.ts';
import { csvWriters } from '../../src/results/writers.ts';
import { sampleTrial } from './fixtures.ts';

describe('the list of writers', () => {
  it('names every file once, trials.csv last', () => {
    expect(csvWriters.map((w) => w.file)).toEqual(['samples.csv', 'events.csv', 'frames.csv', 'progress.csv', 'evacuations.csv', 'trials.csv']);
  });

  it('writes the same header lines as before the writers were one list, byte for byte', () => {
    const headers = Object.fromEntries(csvWriters.map((w) => [w.file, csvHeader(w)]));
    expect(headers).toMatchObject({
      'samples.csv': 'trial,probe,t_ms,ok,latency_ms,error,send_lag_ms\n',
      'events.csv': 'trial,t_ms,source,event,detail\n',
      'frames.csv': 'trial,t_ms,connection,epoch,seq,server_ts_us\n',
      'progress.csv': 'trial,t_ms,step,started_step,pid,process_start\n',
    });
    expect(headers['trials.csv']).toBe(`${trialsColumns.join(',')}\n`);
  });

  it('documents every column: a description, and a unit where the column is a figure', () => {
    for (const writer of csvWriters) {
      expect(writer.about.length, writer.file).toBeGreaterThan(10);
      for (const column of writer.columns) expect(column.description.length, `${writer.file} ${column.name}`).toBeGreaterThan(10);
      expect(new Set(writer.columns.map((c) => c.name)).size, writer.file).toBe(writer.columns.length);
    }
    const units = Object.fromEntries(trialsCsv.columns.map((c) => [c.name, c.unit]));
    expect(units).toMatchObject({ downtime_ms: 'ms', outages: 'count', dataset_bytes: 'bytes', sweep_dataset_mib: 'MiB', anat_client_ms: 'ms' });
    expect(units.status).toBeUndefined();
  });
});

describe('a writer', () => {
  it('serializes a trial to text: samples in due order, times relative to the trigger', () => {
    expect(samplesCsv.rows(sampleTrial(), {})).toBe(
      '3,redis,-10.000,true,0.500,,0.125\n' + '3,redis,-5.000,true,0.750,,0.000\n' + '3,redis,5.000,false,5.000,timeout,0.500\n',
    );
  });

  it('writes an unsupported trial as one trials.csv row (the reason in error) and nothing in the other files', () => {
    const unsupported: UnsupportedTrial = {
      runId: 'r',
      trial: 7,
      workload: 'redis',
      strategy: 'criu-lazy',
      repetition: 1,
      warmup: false,
      status: 'unsupported',
      error: 'unsupported: no userfaultfd',
      startedAt: new Date(Date.UTC(2025, 0, 1)),
      probeIntervalMs: 5,
    };
    const { metrics } = computeTrialMetrics(unsupported);
    for (const writer of csvWriters.filter((w) => w !== trialsCsv)) expect(writer.rows(unsupported, metrics), writer.file).toBe('');
    const [row] = parse(csvHeader(trialsCsv) + trialsCsv.rows(unsupported, metrics), { columns: true }) as Record<string, string>[];
    expect(row).toMatchObject({
      trial: '7',
      status: 'unsupported',
      error: 'unsupported: no userfaultfd',
      failed_phase: '',
      started_at: '2025-01-01T00:00:00.000Z',
    });
    // As every trial without samples: counts of nothing, and the probe interval it would have used.
    expect(row).toMatchObject({ outages: '0', failed_samples: '0', baseline_failed_samples: '0', samples: '0', probe_interval_ms: '5.000', downtime_ms: '' });
  });
});
