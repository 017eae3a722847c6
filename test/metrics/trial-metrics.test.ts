// Every metric definition, checked on hand-made timelines whose answers are known: a probe ticking
// every 5 ms from 100 ms before the trigger to 400 ms after it, failing where the test says.
import { describe, expect, it } from 'vitest';
import { computeTrialMetrics, metricColumnDocs, metricColumns } from '../../src/metrics/trial-metrics.ts';
import { findOutages, outageDuration, outageUpperBound } from '../../src/metrics/downtime.ts';
import type { Sample } from '../../src/model/timeline.ts';
import type { OkTrial } from '../../src/model/trial-result.ts';

const TRIGGER = 1000;
const INTERVAL = 5;

interface TickOptions {
  probe?: string;
  /** Failed ranges, ms relative to the trigger, both ends included. */
  failed?: [number, number][];
  /** Shift every tick (a second probe ticking between the first one's ticks). */
  offset?: number;
  from?: number;
  to?: number;
  latency?: (t: number, ok: boolean) => number;
  sendLag?: (t: number) => number;
}

/** Ticks every 5 ms from trigger−100 to trigger+400 (t relative to the trigger). */
function ticks(o: TickOptions = {}): Sample[] {
  const samples: Sample[] = [];
  for (let t = o.from ?? -100; t <= (o.to ?? 400); t += INTERVAL) {
    const at = TRIGGER + t + (o.offset ?? 0);
    const ok = !(o.failed ?? []).some(([a, b]) => t >= a && t <= b);
    samples.push({
      probe: o.probe ?? 'redis',
      scheduledAt: at,
      sentAt: at + (o.sendLag?.(t) ?? 0),
      doneAt: at + (o.latency?.(t, ok) ?? 1),
      ok,
      error: ok ? '' : 'timeout',
    });
  }
  return samples;
}

function result(samples: Sample[], extra: Partial<OkTrial> = {}): OkTrial {
  return {
    runId: 'run-1',
    trial: 1,
    workload: 'redis',
    strategy: 'criu',
    repetition: 1,
    warmup: false,
    status: 'ok',
    startedAt: new Date('2025-01-01T00:00:00.000Z'),
    timeline: { triggerAt: TRIGGER, samples, events: [] },
    probeIntervalMs: INTERVAL,
    probeRecords: [],
    ...extra,
  };
}

const metricsOf = (samples: Sample[], extra: Partial<OkTrial> = {}) => computeTrialMetrics(result(samples, extra));

describe('downtime', () => {
  it('measures one outage from its first failed tick to the first ok tick after it', () => {
    // Failed ticks t = 20..60 (9 of them); last ok before at 15, first ok after at 65.
    const { metrics, recovered } = metricsOf(ticks({ failed: [[20, 60]] }));
    expect(recovered).toBe(true);
    expect(metrics.downtime_ms).toBe(45);
    expect(metrics.downtime_upper_ms).toBe(50);
    expect(metrics.outages).toBe(1);
    expect(metrics.failed_samples).toBe(9);
    expect(metrics.baseline_failed_samples).toBe(0);
    expect(metrics.samples).toBe(101);
    expect(metrics.probe_interval_ms).toBe(5);
  });

  it('reports the longest of two outages, whichever came first', () => {
    const later = metricsOf(
      ticks({
        failed: [
          [10, 20],
          [100, 150],
        ],
      }),
    ).metrics;
    expect(later).toMatchObject({ downtime_ms: 55, downtime_upper_ms: 60, outages: 2, failed_samples: 14 });
    const earlier = metricsOf(
      ticks({
        failed: [
          [100, 150],
          [300, 310],
        ],
      }),
    ).metrics;
    expect(earlier).toMatchObject({ downtime_ms: 55, downtime_upper_ms: 60, outages: 2, failed_samples: 14 });
  });

  it('is 0 when no sample failed', () => {
    const { metrics, recovered } = metricsOf(ticks());
    expect(recovered).toBe(true);
    expect(metrics).toMatchObject({ downtime_ms: 0, downtime_upper_ms: 0, outages: 0, failed_samples: 0, baseline_failed_samples: 0 });
  });

  it('leaves downtime out and says not recovered when the service never answered again', () => {
    const { metrics, recovered } = metricsOf(
      ticks({
        failed: [
          [10, 20],
          [200, 400],
        ],
      }),
    );
    expect(recovered).toBe(false);
    expect(metrics.downtime_ms).toBeUndefined();
    expect(metrics.downtime_upper_ms).toBeUndefined();
    expect(metrics.outages).toBe(2);
    expect(metrics.failed_samples).toBe(3 + 41);
  });

  it("does not call the service unrecovered for the probe's last sample alone failing after it recovered", () => {
    const { metrics, recovered } = metricsOf(
      ticks({
        failed: [
          [10, 20],
          [400, 400],
        ],
      }),
    );
    expect(recovered).toBe(true);
    expect(metrics.downtime_ms).toBe(15);
    expect(metrics.outages).toBe(1);
    expect(metrics.failed_samples).toBe(3 + 1);
    // Two failed samples at the end are an outage that did not end: not recovered.
    expect(
      metricsOf(
        ticks({
          failed: [
            [10, 20],
            [395, 400],
          ],
        }),
      ).recovered,
    ).toBe(false);
    // And a single failed final sample with no success after the trigger at all is not a recovery either.
    expect(
      metricsOf(
        ticks({
          failed: [
            [0, 395],
            [400, 400],
          ],
        }),
      ).recovered,
    ).toBe(false);
  });

  it('counts an outage that was going on at the trigger, from its first failed tick', () => {
    // Failed t = −20..30: 4 ticks before the trigger, 7 at or after it; first ok after at 35.
    const { metrics } = metricsOf(ticks({ failed: [[-20, 30]] }));
    expect(metrics).toMatchObject({ downtime_ms: 55, downtime_upper_ms: 60, outages: 1, failed_samples: 7, baseline_failed_samples: 4 });
  });

  it('counts an outage whose last failed tick was just before the trigger and whose recovery came after it', () => {
    // Trigger 2 ms before the tick at t = 0: the last thing known at the trigger was a failure (t = −5).
    const samples = ticks({ failed: [[-20, -5]] });
    const { metrics } = computeTrialMetrics({ ...result(samples), timeline: { triggerAt: TRIGGER - 2, samples, events: [] } });
    expect(metrics).toMatchObject({ downtime_ms: 20, downtime_upper_ms: 25, outages: 1, failed_samples: 0, baseline_failed_samples: 4 });
  });

  it('ignores an outage that ended before the trigger, except in baseline_failed_samples', () => {
    expect(metricsOf(ticks({ failed: [[-80, -60]] })).metrics).toMatchObject({ downtime_ms: 0, outages: 0, failed_samples: 0, baseline_failed_samples: 5 });
    // Ended exactly at the trigger: the ok tick at t = 0 is the trigger itself, so it is over.
    expect(metricsOf(ticks({ failed: [[-20, -5]] })).metrics).toMatchObject({ downtime_ms: 0, outages: 0, baseline_failed_samples: 4 });
  });

  it("keeps each probe's outages apart: one probe's successes do not end another's outage", () => {
    const a = ticks({ probe: 'a', failed: [[20, 60]] });
    const b = ticks({ probe: 'b', offset: 2.5, failed: [[100, 110]] });
    const { metrics } = metricsOf([...a, ...b]);
    expect(metrics.downtime_ms).toBe(45);
    expect(metrics.downtime_upper_ms).toBe(50);
    expect(metrics.outages).toBe(2);
    expect(metrics.failed_samples).toBe(9 + 3);
    expect(metrics.samples).toBe(202);
  });

  it('does not depend on the order the samples are stored in', () => {
    const samples = ticks({ failed: [[20, 60]] });
    expect(metricsOf([...samples].reverse()).metrics).toEqual(metricsOf(samples).metrics);
  });

  it('stays linear in the number of samples (a long trial at 5 ms has ~100k)', () => {
    // Regression: grouping by probe used to copy the list per sample, ~40 s for 100k samples.
    const samples = ticks({ from: -100_000, to: 400_000, failed: [[20, 60]] });
    expect(samples.length).toBe(100_001);
    const started = performance.now();
    expect(metricsOf(samples).metrics.downtime_ms).toBe(45);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('is not recovered when there are no samples at all', () => {
    const { metrics, recovered } = metricsOf([]);
    expect(recovered).toBe(false);
    expect(metrics.downtime_ms).toBeUndefined();
    expect(metrics).toMatchObject({ samples: 0, outages: 0, failed_samples: 0 });
  });
});

describe('migration and latency', () => {
  it('migration_ms is strategy finished − trigger, absent when the strategy never finished', () => {
    expect(metricsOf(ticks(), { strategyFinishedAt: TRIGGER + 123.5 }).metrics.migration_ms).toBe(123.5);
    const none = metricsOf(ticks()).metrics;
    expect('migration_ms' in none).toBe(false);
    expect('latency_after_p99_ms' in none).toBe(false);
  });

  // Baseline ticks t = −100..−5 (20 of them) take 0.25, 0.5, ..., 5 ms; failed baseline ticks and
  // everything after the trigger are slower, so using them would change the answer.
  const latency = (t: number, ok: boolean) => {
    if (!ok) return 50;
    if (t < 0) return ((t + 100) / 5 + 1) * 0.25;
    return t < 200 ? 9 : 0.5;
  };

  it('latency p50/p99 come from the successful baseline samples, due → done', () => {
    const { metrics } = metricsOf(ticks({ latency, failed: [[-50, -50]] }));
    // 19 ok baseline samples (the one at −50, latency 2.75, failed): p50 = 10th = 2.5, p99 = 19th = 5.
    expect(metrics.latency_p50_ms).toBe(2.5);
    expect(metrics.latency_p99_ms).toBe(5);
  });

  it('latency_after_p99_ms only counts ok samples due at or after the strategy finished', () => {
    const { metrics } = metricsOf(ticks({ latency, failed: [[300, 310]] }), { strategyFinishedAt: TRIGGER + 200 });
    expect(metrics.latency_after_p99_ms).toBe(0.5);
    expect(metrics.migration_ms).toBe(200);
  });

  it('send_lag_p99_ms is the 99th percentile of sent − due over every sample', () => {
    // 101 samples: all 0.125 except 3 at t = 50 and 4 at t = 60; rank 100 of 101 is the 3.
    const sendLag = (t: number) => (t === 50 ? 3 : t === 60 ? 4 : 0.125);
    expect(metricsOf(ticks({ sendLag, failed: [[50, 60]] })).metrics.send_lag_p99_ms).toBe(3);
  });
});

describe('reported figures', () => {
  it('converts CRIU µs to ms and passes pages, bytes and lost writes through', () => {
    const { metrics } = metricsOf(ticks(), {
      criu: { freezingUs: 101625, frozenUs: 93156, memdumpUs: 3442, memwriteUs: 1771, pagesScanned: 783, pagesWritten: 673, restoreUs: 100136, forkingUs: 3 },
      checkpointBytes: 2_760_704,
      verification: { redisAckedWritesLost: 3 },
    });
    expect(metrics).toMatchObject({
      criu_freezing_ms: 101.625,
      criu_frozen_ms: 93.156,
      criu_memdump_ms: 3.442,
      criu_memwrite_ms: 1.771,
      criu_restore_ms: 100.136,
      criu_pages_written: 673,
      checkpoint_bytes: 2_760_704,
      redis_acked_writes_lost: 3,
    });
  });

  it('leaves columns out when nothing was reported (redeploy has no CRIU figures)', () => {
    const { metrics } = metricsOf(ticks());
    for (const c of [
      'criu_freezing_ms',
      'criu_frozen_ms',
      'criu_memdump_ms',
      'criu_memwrite_ms',
      'criu_restore_ms',
      'criu_pages_written',
      'checkpoint_bytes',
      'redis_acked_writes_lost',
    ]) {
      expect(c in metrics, c).toBe(false);
    }
  });

  it('keeps a measured 0 (no writes lost is a result, not a missing one)', () => {
    expect(metricsOf(ticks(), { verification: { redisAckedWritesLost: 0 } }).metrics.redis_acked_writes_lost).toBe(0);
  });

  it('reports only documented columns', () => {
    const { metrics } = metricsOf(ticks({ failed: [[20, 60]] }), {
      strategyFinishedAt: TRIGGER + 100,
      criu: { frozenUs: 1 },
      verification: { redisAckedWritesLost: 0 },
    });
    for (const key of Object.keys(metrics)) expect(metricColumns).toContain(key);
    expect(metricColumns).toEqual(Object.keys(metricColumnDocs));
  });
});

describe('findOutages', () => {
  it('splits samples into maximal failed runs with their neighbours', () => {
    const outages = findOutages(
      ticks({
        from: 0,
        to: 50,
        failed: [
          [0, 5],
          [20, 30],
        ],
      }),
    );
    expect(outages).toEqual([
      { firstFailedAt: 1000, lastFailedAt: 1005, firstOkAfterAt: 1010, failedSamples: 2 },
      { firstFailedAt: 1020, lastFailedAt: 1030, lastOkBeforeAt: 1015, firstOkAfterAt: 1035, failedSamples: 3 },
    ]);
    // No ok sample before: the upper bound falls back to the first failure.
    expect(outageUpperBound(outages[0]!)).toBe(10);
    expect(outageDuration(outages[1]!)).toBe(15);
    expect(outageUpperBound(outages[1]!)).toBe(20);
  });

  it('leaves firstOkAfterAt out of an outage that never ended', () => {
    const [o] = findOutages(ticks({ from: 0, to: 20, failed: [[10, 20]] }));
    expect(o).toEqual({ firstFailedAt: 1010, lastFailedAt: 1020, lastOkBeforeAt: 1005, failedSamples: 3 });
    expect(outageDuration(o!)).toBeUndefined();
    expect(outageUpperBound(o!)).toBeUndefined();
  });
});
