// pod_scheduled_ms and pod_ready_ms come from the pod watch's events (receive times), and a trial
// that ran no app probe leaves the probe columns empty instead of reporting a perfect service.
import { expect, it } from 'vitest';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import type { OkTrial } from '../../src/model/trial-result.ts';
import type { EventName } from '../../src/model/events.ts';
import type { PhaseEvent } from '../../src/model/timeline.ts';

const TRIGGER = 10_000;
const watch = (t: number, event: EventName, detail = 'p'): PhaseEvent => ({ at: TRIGGER + t, source: 'platform:kubernetes', event, detail });

function result(events: PhaseEvent[], extra: Partial<OkTrial> = {}): OkTrial {
  return {
    runId: 'r',
    trial: 1,
    workload: 'video',
    strategy: 'drain',
    repetition: 1,
    warmup: false,
    status: 'ok',
    startedAt: new Date(0),
    timeline: { triggerAt: TRIGGER, samples: [], events },
    probeIntervalMs: 5,
    strategyFinishedAt: TRIGGER + 900,
    probeRecords: [],
    ...extra,
  };
}

it('times the moved pod from the trigger: the first pod scheduled and ready after it, not the source pod before it', () => {
  const events: PhaseEvent[] = [
    watch(-3000, 'pod_scheduled', 'source'),
    watch(-2500, 'pod_ready', 'source'),
    { at: TRIGGER + 120, source: 'strategy:drain', event: 'pod_scheduled' }, // not the watch's: ignored
    watch(300, 'pod_ready', 'new'),
    watch(150.5, 'pod_scheduled', 'new'),
    watch(700, 'pod_ready', 'another'),
  ];
  const { metrics, recovered } = computeTrialMetrics(result(events, { probesSkipped: true }));
  expect(metrics.pod_scheduled_ms).toBe(150.5);
  expect(metrics.pod_ready_ms).toBe(300);
  expect(metrics.migration_ms).toBe(900);
  expect(recovered).toBe(true);
});

it('leaves every probe column empty when no probe ran, and such a trial is not a failed recovery', () => {
  const { metrics, recovered } = computeTrialMetrics(result([], { probesSkipped: true }));
  for (const column of [
    'downtime_ms',
    'downtime_upper_ms',
    'outages',
    'failed_samples',
    'baseline_failed_samples',
    'samples',
    'probe_interval_ms',
    'latency_p50_ms',
  ] as const) {
    expect(metrics[column], column).toBeUndefined();
  }
  expect(recovered).toBe(true);
  expect(metrics.pod_ready_ms).toBeUndefined();
});

it('still fails a trial whose probes were meant to run and recorded nothing', () => {
  expect(computeTrialMetrics(result([])).recovered).toBe(false);
});
