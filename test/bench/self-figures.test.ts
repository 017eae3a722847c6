// bench:self's real-run figures come from the results files: send jitter from samples.csv's
// send_lag_ms, the harness's overhead from trials.csv's downtime and CRIU timers. Exact values on
// hand-made files, in the column layout the writers produce.
import { describe, expect, it } from 'vitest';
import { anatomyMedians, criuOverhead, criuSteps, measuredTrials, sendJitter } from '../../bench/self-figures.ts';
import { anatomyColumns } from '../../src/metrics/anatomy.ts';
import { csvHeader } from '../../src/results/csv-writer.ts';
import { samplesCsv } from '../../src/results/samples-csv.ts';

const SAMPLES = [
  csvHeader(samplesCsv).trimEnd(),
  ...[0.01, 0.02, 0.03, 0.04, 0.5].map((lag, i) => `2,redis,${i * 5 - 20}.000,true,0.500,,${lag.toFixed(3)}`),
  '3,redis,0.000,false,5.000,timeout,7.250',
  // A warm-up's samples (trial 1) must not count when the measured trials are given.
  '1,redis,0.000,true,0.500,,99.000',
  '',
].join('\n');

const TRIALS = [
  'run_id,trial,workload,strategy,repetition,status,warmup,downtime_ms,criu_frozen_ms,criu_restore_ms',
  'r,1,redis,criu,1,ok,true,900.000,100.000,100.000',
  'r,2,redis,criu,1,ok,false,330.000,70.500,140.250',
  'r,3,redis,criu,2,ok,false,400.000,100.000,150.000',
  'r,4,redis,criu,3,failed,false,,,',
  'r,5,redis,redeploy,1,ok,false,125.000,,',
  '',
].join('\n');

describe('sendJitter', () => {
  it('takes nearest-rank p50 and p99 and the max of sent − scheduled over the measured trials', () => {
    expect(sendJitter(SAMPLES, measuredTrials(TRIALS))).toEqual({ samples: 6, p50Ms: 0.03, p99Ms: 7.25, maxMs: 7.25 });
  });

  it('takes every sample when no trials are given, and nothing when there are none', () => {
    expect(sendJitter(SAMPLES)).toMatchObject({ samples: 7, maxMs: 99 });
    expect(sendJitter(csvHeader(samplesCsv))).toBeUndefined();
  });
});

describe('criuOverhead', () => {
  it('is downtime_ms − (criu_frozen_ms + criu_restore_ms) per ok, measured CRIU trial', () => {
    expect(criuOverhead(TRIALS)).toEqual([
      { trial: '2', downtimeMs: 330, frozenMs: 70.5, restoreMs: 140.25, overheadMs: 119.25 },
      { trial: '3', downtimeMs: 400, frozenMs: 100, restoreMs: 150, overheadMs: 150 },
    ]);
  });
});

describe('criuSteps', () => {
  it("measures the platform's checkpoint, gap, restore and service switch after the trigger from events.csv", () => {
    const events = [
      'trial,t_ms,source,event,detail',
      // Before the trigger: the first pod's service endpoint must not count.
      '2,-2011.736,platform:local,service_endpoint,redis -> redis-5',
      '2,0.000,trial,trigger,criu: node-a -> node-b',
      '2,0.729,platform:local,checkpoint_start,redis-5',
      '2,277.519,platform:local,checkpoint_done,redis-5',
      '2,303.992,platform:local,restore_start,redis-6',
      '2,485.544,platform:local,restore_done,redis-6',
      '2,486.620,strategy:criu,ready,redis-6',
      '2,511.852,platform:local,service_endpoint,redis -> redis-6',
      // A redeploy trial has no checkpoint: no steps.
      '3,0.000,trial,trigger,redeploy: node-a -> node-b',
      '3,100.000,platform:local,service_endpoint,redis -> redis-8',
      '',
    ].join('\n');
    const steps = criuSteps(events);
    expect([...steps.keys()]).toEqual(['2']);
    const s = steps.get('2')!;
    expect(s.checkpointMs).toBeCloseTo(276.79, 9);
    expect(s.betweenMs).toBeCloseTo(26.473, 9);
    expect(s.restoreMs).toBeCloseTo(181.552, 9);
    expect(s.switchMs).toBeCloseTo(26.308, 9);
  });
});

describe('anatomyMedians', () => {
  // Two ok criu trials and a warm-up (left out): medians are nearest-rank (the lower of two).
  const zeros = (parts: Record<string, number>) => anatomyColumns.map((c) => (parts[c] ?? 0).toFixed(3)).join(',');
  const csv = [
    `run_id,trial,workload,strategy,repetition,status,warmup,downtime_ms,${anatomyColumns.join(',')}`,
    `r,1,redis,criu,1,ok,true,900.000,${zeros({ anat_dump_ms: 900 })}`,
    `r,2,redis,criu,1,ok,false,300.000,${zeros({ anat_dump_ms: 200, anat_switch_ms: 60, anat_pod_setup_ms: 40 })}`,
    `r,3,redis,criu,2,ok,false,400.000,${zeros({ anat_dump_ms: 250, anat_switch_ms: 20, anat_ready_ms: 5, anat_harness_ms: 2, anat_pod_setup_ms: 123 })}`,
    '',
  ].join('\n');

  it('gives the median of each part, largest first, and the harness parts’ medians summed', () => {
    expect(anatomyMedians(csv)).toEqual([
      { workload: 'redis', strategy: 'criu', downtimeMs: 300, whereItWent: 'dump 200.0 · pod_setup 40.0 · switch 20.0 (harness 60.0)', harnessMs: 60 },
    ]);
  });
});
