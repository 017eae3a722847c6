// The CSVs are the product: every analysis reads them. Columns, formats and quoting must hold, so
// the rows are parsed back with a real CSV parser rather than compared as strings.
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { serviceOutageColumnDocs } from '../../src/metrics/service-outage.ts';
import { csvHeader } from '../../src/results/csv-writer.ts';
import { evacuationColumnDocs, hostLoadColumnDocs, trialsColumns, trialsCsv } from '../../src/results/trials-csv.ts';
import { samplesColumns, samplesCsv } from '../../src/results/samples-csv.ts';
import { eventsColumns, eventsCsv } from '../../src/results/events-csv.ts';
import { framesCsv } from '../../src/results/frames-csv.ts';
import { progressCsv } from '../../src/results/progress-csv.ts';
import { formatBool, formatMs, formatNumber, formatTimestamp } from '../../src/results/format.ts';
import { metricColumns, type TrialMetrics } from '../../src/metrics/trial-metrics.ts';
import { sampleTrial } from './fixtures.ts';

const records = (header: string, rows: string) => parse(header + rows, { columns: true }) as Record<string, string>[];

describe('format', () => {
  it('writes ms with 3 decimals, empty when not measured', () => {
    expect(formatMs(45)).toBe('45.000');
    expect(formatMs(0.0004)).toBe('0.000');
    expect(formatMs(123.4567)).toBe('123.457');
    expect(formatMs(-10)).toBe('-10.000');
    expect(formatMs(undefined)).toBe('');
    expect(formatMs(Number.NaN)).toBe('');
    expect(formatMs(Number.POSITIVE_INFINITY)).toBe('');
  });

  it('writes counts unrounded, empty when not measured', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(2_760_704)).toBe('2760704');
    expect(formatNumber(undefined)).toBe('');
    expect(formatBool(true)).toBe('true');
    expect(formatBool(false)).toBe('false');
  });

  it('writes timestamps as ISO 8601 UTC with milliseconds', () => {
    expect(formatTimestamp(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 67)))).toBe('2025-01-02T03:04:05.067Z');
  });
});

describe('trials.csv', () => {
  it('puts identity and outcome first, then the swept parameters and the data set size, then every metric column in order, then operator, then the host load, then the service outage', () => {
    const header = (parse(csvHeader(trialsCsv)) as string[][])[0]!;
    expect(header).toEqual(trialsColumns);
    expect(header.slice(0, 10)).toEqual(['run_id', 'trial', 'workload', 'strategy', 'repetition', 'status', 'error', 'started_at', 'warmup', 'failed_phase']);
    expect(header.slice(10, 16)).toEqual(['sweep_dataset_mib', 'sweep_keys', 'sweep_value_bytes', 'sweep_bitrate_kbps', 'sweep_model_width', 'dataset_bytes']);
    const added = [...Object.keys(hostLoadColumnDocs), ...Object.keys(serviceOutageColumnDocs), ...Object.keys(evacuationColumnDocs)];
    expect(header.slice(16, -1 - added.length)).toEqual(metricColumns);
    // Each added last so that no earlier column moved.
    expect(header.at(-1 - added.length)).toBe('operator');
    expect(header.slice(-added.length)).toEqual([
      'host_load1',
      'host_cpu_busy_pct',
      'host_other_cpu_pct',
      'host_steal_pct',
      'host_memory_pressure_pct',
      'service_downtime_ms',
      'service_downtime_upper_ms',
      'anat_client_gap_ms',
      'evacuation',
      'evacuation_pods',
      'concurrency',
      'evacuation_pod',
      'evacuation_target',
    ]);
    expect(header.slice(16, 19)).toEqual(['downtime_ms', 'downtime_upper_ms', 'outages']);
  });

  it("writes a swept trial's value in its parameter's column only, and the measured data set size", () => {
    const [swept] = records(
      csvHeader(trialsCsv),
      trialsCsv.rows(sampleTrial({ sweep: { parameter: 'datasetMiB', value: 2048 }, datasetBytes: 2_328_000_512 }), {}),
    );
    expect(swept).toMatchObject({
      sweep_dataset_mib: '2048',
      sweep_keys: '',
      sweep_value_bytes: '',
      sweep_bitrate_kbps: '',
      sweep_model_width: '',
      dataset_bytes: '2328000512',
    });
    const [plain] = records(csvHeader(trialsCsv), trialsCsv.rows(sampleTrial(), {}));
    expect(
      Object.entries(plain!)
        .filter(([c]) => c.startsWith('sweep_') || c === 'dataset_bytes')
        .every(([, v]) => v === ''),
    ).toBe(true);
  });

  const metrics: TrialMetrics = {
    downtime_ms: 45,
    migration_ms: 123.4567,
    outages: 1,
    failed_samples: 9,
    checkpoint_bytes: 2_760_704,
    redis_acked_writes_lost: 0,
  };
  const [row] = records(csvHeader(trialsCsv), trialsCsv.rows(sampleTrial(), metrics));

  it('writes the identity of the trial', () => {
    expect(row).toMatchObject({
      run_id: '20250101-000000-smoke',
      trial: '3',
      workload: 'redis',
      strategy: 'criu',
      repetition: '2',
      status: 'ok',
      error: '',
      started_at: '2025-01-02T03:04:05.067Z',
      warmup: 'false',
      failed_phase: '',
    });
  });

  it('writes ms with 3 decimals, counts as integers, and nothing for absent metrics', () => {
    expect(row!.downtime_ms).toBe('45.000');
    expect(row!.migration_ms).toBe('123.457');
    expect(row!.outages).toBe('1');
    expect(row!.failed_samples).toBe('9');
    expect(row!.checkpoint_bytes).toBe('2760704');
    expect(row!.redis_acked_writes_lost).toBe('0');
    expect(row!.downtime_upper_ms).toBe('');
    expect(row!.criu_frozen_ms).toBe('');
    expect(row!.criu_pages_written).toBe('');
    expect(Object.keys(row!)).toEqual(trialsColumns);
  });

  it("writes a podmigration trial's operator, and nothing for other strategies", () => {
    const [double] = records(csvHeader(trialsCsv), trialsCsv.rows(sampleTrial({ strategy: 'podmigration', operator: 'test-double' }), {}));
    expect(double!.operator).toBe('test-double');
    expect(row!.operator).toBe('');
  });

  it('round-trips an error with a comma, a quote and a newline', () => {
    const error = 'criu dump failed: exit 1, "Can\'t dump"\nError (criu/cr-dump.c:1): boom';
    const failed = sampleTrial({ status: 'failed', error, failedPhase: 'migrate', warmup: true });
    const [back] = records(csvHeader(trialsCsv), trialsCsv.rows(failed, {}));
    expect(back).toMatchObject({ status: 'failed', error, failed_phase: 'migrate', warmup: 'true', downtime_ms: '' });
  });
});

describe('samples.csv', () => {
  const rows = records(csvHeader(samplesCsv), samplesCsv.rows(sampleTrial(), {}));

  it('has the documented columns', () => {
    expect((parse(csvHeader(samplesCsv)) as string[][])[0]).toEqual(['trial', 'probe', 't_ms', 'ok', 'latency_ms', 'error', 'send_lag_ms']);
    expect(samplesColumns).toEqual(['trial', 'probe', 't_ms', 'ok', 'latency_ms', 'error', 'send_lag_ms']);
  });

  it('writes one row per sample, in due order, times relative to the trigger', () => {
    expect(rows).toEqual([
      { trial: '3', probe: 'redis', t_ms: '-10.000', ok: 'true', latency_ms: '0.500', error: '', send_lag_ms: '0.125' },
      { trial: '3', probe: 'redis', t_ms: '-5.000', ok: 'true', latency_ms: '0.750', error: '', send_lag_ms: '0.000' },
      { trial: '3', probe: 'redis', t_ms: '5.000', ok: 'false', latency_ms: '5.000', error: 'timeout', send_lag_ms: '0.500' },
    ]);
  });

  it('writes nothing (not an empty line) for a trial without samples', () => {
    const empty = sampleTrial();
    empty.timeline = { ...empty.timeline, samples: [] };
    expect(samplesCsv.rows(empty, {})).toBe('');
  });
});

describe('events.csv', () => {
  it('writes every event in time order, the trigger at 0', () => {
    expect(eventsColumns).toEqual(['trial', 't_ms', 'source', 'event', 'detail']);
    expect(records(csvHeader(eventsCsv), eventsCsv.rows(sampleTrial(), {}))).toEqual([
      { trial: '3', t_ms: '-100.000', source: 'trial', event: 'phase:settle', detail: '' },
      { trial: '3', t_ms: '0.000', source: 'trial', event: 'trigger', detail: '' },
      { trial: '3', t_ms: '12.500', source: 'strategy:criu', event: 'restore', detail: 'pod redis-2 on node-b' },
    ]);
  });

  it('writes nothing for a trial without events', () => {
    const empty = sampleTrial();
    empty.timeline = { ...empty.timeline, events: [] };
    expect(eventsCsv.rows(empty, {})).toBe('');
  });
});

describe('frames.csv and progress.csv', () => {
  const trigger = sampleTrial().timeline.triggerAt;

  it('writes every received frame, times relative to the trigger, µs values exact', () => {
    const frames = [
      { at: trigger - 40, connection: 0, epoch: 1_795_587_807_259_796, seq: 87, serverTsUs: 1_795_587_810_739_796 },
      { at: trigger + 412.25, connection: 2, epoch: 1_795_587_807_259_796, seq: 88, serverTsUs: 1_795_587_811_191_002 },
    ];
    const t = sampleTrial({ probeRecords: [{ probe: 'video', fps: 25, playerBufferMs: 1000, frames, breaks: [] }] });
    expect(records(csvHeader(framesCsv), framesCsv.rows(t, {}))).toEqual([
      { trial: '3', t_ms: '-40.000', connection: '0', epoch: '1795587807259796', seq: '87', server_ts_us: '1795587810739796' },
      { trial: '3', t_ms: '412.250', connection: '2', epoch: '1795587807259796', seq: '88', server_ts_us: '1795587811191002' },
    ]);
    expect(framesCsv.rows(sampleTrial(), {})).toBe('');
  });

  it('writes every progress report with the process that made it', () => {
    const t = sampleTrial({
      probeRecords: [{ probe: 'training', progress: [{ at: trigger + 1.5, step: 140, startedStep: 100, pid: 1, processStart: 1_795_587_807.25 }] }],
    });
    expect(records(csvHeader(progressCsv), progressCsv.rows(t, {}))).toEqual([
      { trial: '3', t_ms: '1.500', step: '140', started_step: '100', pid: '1', process_start: '1795587807.25' },
    ]);
    expect(progressCsv.rows(sampleTrial(), {})).toBe('');
  });
});
