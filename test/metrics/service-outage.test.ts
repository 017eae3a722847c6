// The service's outage (fresh-connection samples) beside the connected client's, on hand-made
// timelines: exact values, and the connected figures untouched by the fresh samples.
import { describe, expect, it } from 'vitest';
import { serviceOutageMetrics } from '../../src/metrics/service-outage.ts';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import type { Sample } from '../../src/model/timeline.ts';
import { sampleTrial } from '../results/fixtures.ts';

/** 5 ms ticks from −100 to 1000 ms around a trigger at 1000; failed in [from, to). */
const probe = (name: string, from: number, to: number): Sample[] =>
  Array.from({ length: 221 }, (_, i) => {
    const t = -100 + 5 * i;
    const ok = !(t >= from && t < to);
    return { probe: name, scheduledAt: 1000 + t, sentAt: 1000 + t, doneAt: 1000 + t + 0.5, ok, error: ok ? '' : 'refused' };
  });

describe('serviceOutageMetrics', () => {
  it('the longest fresh-connection outage after the trigger; the client part is the difference', () => {
    expect(serviceOutageMetrics(probe('redis-fresh', 20, 395), 1000, 410)).toEqual({
      service_downtime_ms: 375,
      service_downtime_upper_ms: 380,
      anat_client_gap_ms: 35,
    });
  });
  it('no failed fresh sample: 0; no fresh probe: nothing', () => {
    expect(serviceOutageMetrics(probe('redis-fresh', 2000, 2000), 1000, 120)).toEqual({
      service_downtime_ms: 0,
      service_downtime_upper_ms: 0,
      anat_client_gap_ms: 120,
    });
    expect(serviceOutageMetrics([], 1000, 120)).toEqual({});
  });
  it('an outage that never ended has no length', () => {
    expect(serviceOutageMetrics(probe('redis-fresh', 20, 5000), 1000, undefined)).toEqual({});
  });
});

it('computeTrialMetrics: downtime_ms and the sample counts are the connected probe’s; service_* the fresh one’s', () => {
  const result = sampleTrial({
    timeline: { triggerAt: 1000, samples: [...probe('redis', 10, 420), ...probe('redis-fresh', 20, 395)], events: [] },
    strategyFinishedAt: 1450,
  });
  const { metrics } = computeTrialMetrics(result);
  expect(metrics).toMatchObject({ downtime_ms: 410, samples: 221, failed_samples: 82, service_downtime_ms: 375, anat_client_gap_ms: 35 });
});
