import { describe, expect, it } from 'vitest';
import { podServingAgainMs, summarizeEvacuation } from '../../src/metrics/evacuation.ts';
import type { OkTrial, TrialResult } from '../../src/model/trial-result.ts';
import type { Sample } from '../../src/model/timeline.ts';

const sample = (at: number, ok: boolean): Sample => ({ probe: 'redis', scheduledAt: at, sentAt: at, doneAt: at + 1, ok, error: ok ? '' : 'refused' });

function pod(index: number, samples: Sample[], finishedAt: number | undefined, extra: Partial<OkTrial> = {}): TrialResult {
  return {
    runId: 'r',
    trial: index,
    workload: 'redis-n3-c2',
    strategy: 'criu',
    repetition: 1,
    warmup: false,
    evacuation: { id: 7, pods: 3, concurrency: 2, pod: `redis-p${index}`, target: 'node-b' },
    status: 'ok',
    startedAt: new Date(0),
    timeline: { triggerAt: 1_000, samples, events: [] },
    probeIntervalMs: 10,
    probeRecords: [],
    ...(finishedAt !== undefined ? { strategyFinishedAt: finishedAt } : {}),
    ...extra,
  } as TrialResult;
}

describe('podServingAgainMs', () => {
  it('is the later of the strategy finishing and the first success after the last outage, from the trigger', () => {
    const samples = [sample(990, true), sample(1_100, false), sample(1_110, false), sample(1_400, true), sample(1_500, false), sample(1_600, true)];
    expect(podServingAgainMs(pod(1, samples, 1_450))).toBe(600);
    expect(podServingAgainMs(pod(1, [sample(990, true), sample(1_100, true)], 1_300))).toBe(300);
  });

  it('is undefined for a pod whose service never answered again or whose move never finished', () => {
    expect(podServingAgainMs(pod(1, [sample(990, true), sample(1_100, false)], 1_300))).toBeUndefined();
    expect(podServingAgainMs(pod(1, [sample(990, true)], undefined))).toBeUndefined();
  });

  it("judges the outages as the trial's downtime does: the single failed last tick and the fresh-connection probes do not count", () => {
    const served = [sample(990, true), sample(1_100, false), sample(1_200, true), sample(1_300, false)];
    expect(podServingAgainMs(pod(1, served, 1_150))).toBe(200);
    const fresh = (at: number, ok: boolean): Sample => ({ ...sample(at, ok), probe: 'redis-fresh' });
    expect(podServingAgainMs(pod(1, [...served.slice(0, 3), fresh(1_250, false), fresh(1_260, false)], 1_150))).toBe(200);
  });
});

describe('summarizeEvacuation', () => {
  it('takes the last pod serving as the total, the spread of downtimes, the failures and the bytes moved', () => {
    const ok = [sample(990, true), sample(1_200, true)];
    const summary = summarizeEvacuation(
      [
        { result: pod(1, ok, 1_300, { checkpointBytes: 1_000 }), metrics: { downtime_ms: 100 } },
        { result: pod(2, ok, 1_800, { checkpointBytes: 2_000 }), metrics: { downtime_ms: 300 } },
        { result: pod(3, ok, 1_500, { checkpointBytes: 500 }), metrics: { downtime_ms: 200 } },
      ],
      ['node-b', 'node-c'],
    );
    expect(summary).toEqual({
      id: 7,
      strategy: 'criu',
      repetition: 1,
      warmup: false,
      pods: 3,
      concurrency: 2,
      targets: ['node-b', 'node-c'],
      totalMs: 800,
      downtimeP50Ms: 200,
      downtimeP99Ms: 300,
      downtimeMaxMs: 300,
      podsFailed: 0,
      bytesMoved: 3_500,
    });
  });

  it('counts a failed pod and leaves the total empty: the node was not emptied of serving pods', () => {
    const failed = { ...pod(2, [sample(990, true)], undefined), status: 'failed', failedPhase: 'dump', error: 'criu dump failed' } as TrialResult;
    const summary = summarizeEvacuation(
      [
        { result: pod(1, [sample(990, true)], 1_300), metrics: { downtime_ms: 50 } },
        { result: failed, metrics: {} },
      ],
      ['node-b'],
    );
    expect(summary.podsFailed).toBe(1);
    expect(summary.totalMs).toBeUndefined();
    expect(summary.downtimeMaxMs).toBe(50);
  });
});
