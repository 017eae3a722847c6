// The downtime anatomy on hand-made timelines whose answers are known (times in ms, trigger at 1000).
import { describe, expect, it } from 'vitest';
import { anatomyColumns, downtimeAnatomy, migrationSegments, serviceBackAt } from '../../src/metrics/anatomy.ts';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import type { EventName } from '../../src/model/events.ts';
import type { PhaseEvent, Sample } from '../../src/model/timeline.ts';
import type { TrialResult } from '../../src/model/trial-result.ts';

const T = 1000;
const ev = (t: number, source: string, event: EventName, detail?: string): PhaseEvent => ({ at: T + t, source, event, ...(detail ? { detail } : {}) });

/** Every column 0 except the ones given. */
const only = (parts: Record<string, number>) => ({ ...Object.fromEntries(anatomyColumns.map((c) => [c, 0])), ...parts });

// A criu migration as the local platform records it (shaped after a real trial's events.csv).
const criuEvents = [
  ev(-5, 'trial', 'phase:migrate'),
  ev(0, 'trial', 'trigger', 'criu: node-a -> node-b'),
  ev(1, 'strategy:criu', 'checkpoint', 'redis-1'),
  ev(2, 'platform:local', 'checkpoint_start', 'redis-1 (shared-store)'),
  ev(223, 'probe:video', 'stream_break', 'stall'),
  ev(232, 'platform:local', 'checkpoint_done', 'redis-1'),
  ev(234, 'strategy:criu', 'restore', 'node-b'),
  ev(244, 'platform:local', 'pod_created', 'redis-2 on node-b'),
  ev(245, 'platform:local', 'restore_start', 'redis-2'),
  ev(370, 'platform:local', 'restore_done', 'redis-2'),
  ev(372, 'strategy:criu', 'ready', 'redis-2'),
  ev(386, 'platform:local', 'service_endpoint', 'redis -> redis-2 (198.18.0.3:6379)'),
  ev(415, 'strategy:criu', 'source_removed', 'redis-1'),
  ev(417, 'trial', 'migrated', 'redis-2'),
];
const criuStats = { freezingUs: 100_000, frozenUs: 74_000, restoreUs: 77_000 };

describe('migrationSegments', () => {
  it('cuts runc checkpoint end-anchored into runtime, CRIU freezing and frozen; restore into runtime and CRIU restore_time', () => {
    const s = migrationSegments(criuEvents, T, criuStats).map((x) => [x.from - T, x.to - T, x.part]);
    expect(s).toEqual([
      [0, 1, 'harness'],
      [1, 2, 'harness'],
      [2, 58, 'runtime'],
      [58, 158, 'freeze'],
      [158, 232, 'dump'],
      [232, 234, 'harness'],
      [234, 244, 'pod_setup'],
      [244, 245, 'pod_setup'],
      [245, 293, 'runtime'],
      [293, 370, 'restore'],
      [370, 372, 'ready'],
      [372, 386, 'switch'],
      [386, Infinity, 'client'],
    ]);
  });

  it("with the service switched while CRIU restores (serviceSwitch: during-restore), the switch is no step: the service is back at the restore's end", () => {
    const events = [
      ev(0, 'trial', 'trigger', 'criu: node-a -> node-b'),
      ev(2, 'platform:local', 'checkpoint_start', 'redis-1 (shared-store)'),
      ev(232, 'platform:local', 'checkpoint_done', 'redis-1'),
      ev(234, 'strategy:criu', 'restore', 'node-b'),
      ev(245, 'platform:local', 'restore_start', 'redis-2'),
      ev(262, 'platform:local', 'service_endpoint', 'redis -> redis-2 (198.18.0.3:6379)'),
      ev(370, 'platform:local', 'restore_done', 'redis-2'),
      ev(372, 'strategy:criu', 'ready', 'redis-2'),
      ev(415, 'strategy:criu', 'source_removed', 'redis-1'),
    ];
    expect(serviceBackAt(events, T)).toBe(T + 370);
    const s = migrationSegments(events, T, criuStats).map((x) => [x.from - T, x.to - T, x.part]);
    expect(s).toEqual([
      [0, 2, 'harness'],
      [2, 58, 'runtime'],
      [58, 158, 'freeze'],
      [158, 232, 'dump'],
      [232, 234, 'harness'],
      [234, 245, 'pod_setup'],
      [245, 293, 'runtime'],
      [293, 370, 'restore'],
      [370, Infinity, 'client'],
    ]);
  });

  it("a switch during a restore that failed is not the service back: the fallback's switch is", () => {
    const events = [
      ev(0, 'trial', 'trigger', 'criu: node-a -> node-b'),
      ev(245, 'platform:local', 'restore_start', 'redis-2'),
      ev(262, 'platform:local', 'service_endpoint', 'redis -> redis-2 (198.18.0.3:6379)'),
      ev(300, 'platform:local', 'restore_failed', 'redis-2: removed'),
      ev(310, 'platform:local', 'restore_start', 'redis-3'),
      ev(400, 'platform:local', 'restore_done', 'redis-3'),
      ev(420, 'platform:local', 'service_endpoint', 'redis -> redis-3 (198.18.0.2:6379)'),
    ];
    expect(serviceBackAt(events, T)).toBe(T + 420);
  });

  it('does not cut a step at a setting made on the way (sysctl before the dump)', () => {
    const events = [
      ev(2, 'platform:local', 'checkpoint_start'),
      ev(3, 'platform:local', 'sysctl', 'fs.pipe-max-size 1048576 -> 4194304'),
      ev(100, 'platform:local', 'checkpoint_done'),
    ];
    const s = migrationSegments(events, T, { freezingUs: 1_000, frozenUs: 60_000 }).map((x) => [x.from - T, x.to - T, x.part]);
    expect(s).toEqual([
      [0, 2, 'harness'],
      [2, 39, 'runtime'],
      [39, 40, 'freeze'],
      [40, 100, 'dump'],
    ]);
  });

  it('takes the switch-in at the first endpoint pointing at a pod, not the one pointing at none', () => {
    const events = [
      ev(3, 'platform:local', 'service_endpoint', 'redis -> none'),
      ev(300, 'platform:local', 'service_endpoint', 'redis -> redis-2 (198.18.0.3:6379)'),
    ];
    expect(serviceBackAt(events, T)).toBe(T + 300);
  });

  it('with the harness freezing the cgroup, CRIU’s freezing_time is runtime and the freeze is the harness’s', () => {
    const events = [
      ev(2, 'platform:local', 'checkpoint_start'),
      ev(3, 'platform:local', 'freeze_start'),
      ev(5, 'platform:local', 'freeze_done'),
      ev(100, 'platform:local', 'checkpoint_done'),
    ];
    const s = migrationSegments(events, T, { freezingUs: 1_000, frozenUs: 60_000 }).map((x) => [x.from - T, x.to - T, x.part]);
    expect(s).toEqual([
      [0, 2, 'harness'],
      [2, 3, 'harness'],
      [3, 5, 'freeze'],
      [5, 39, 'runtime'],
      [39, 40, 'runtime'],
      [40, 100, 'dump'],
    ]);
  });

  it('with the freeze done by CRIU’s pre-dump action script, that freeze comes right before CRIU’s own', () => {
    const events = [ev(2, 'platform:local', 'checkpoint_start'), ev(100, 'platform:local', 'checkpoint_done')];
    const s = migrationSegments(events, T, { harnessFreezeUs: 1_500, freezingUs: 500, frozenUs: 60_000 }).map((x) => [x.from - T, x.to - T, x.part]);
    expect(s).toEqual([
      [0, 2, 'harness'],
      [2, 38, 'runtime'],
      [38, 39.5, 'freeze'],
      [39.5, 40, 'freeze'],
      [40, 100, 'dump'],
    ]);
  });
});

describe('downtimeAnatomy', () => {
  it('splits a criu outage into parts that add up to it', () => {
    const parts = downtimeAnatomy(migrationSegments(criuEvents, T, criuStats), T + 60, T + 395);
    expect(parts).toEqual(
      only({
        anat_freeze_ms: 98,
        anat_dump_ms: 74,
        anat_harness_ms: 2,
        anat_pod_setup_ms: 11,
        anat_runtime_ms: 48,
        anat_restore_ms: 77,
        anat_ready_ms: 2,
        anat_switch_ms: 14,
        anat_client_ms: 9,
      }),
    );
    expect(Object.values(parts).reduce((a, b) => a + b)).toBe(335);
  });

  it('splits a redeploy outage into stop, pod set-up, start, app load, switch and client', () => {
    const events = [
      ev(0, 'trial', 'trigger'),
      ev(5, 'platform:local', 'service_endpoint', 'redis -> none'),
      ev(7, 'platform:local', 'pod_sigterm', 'redis-1'),
      ev(57, 'platform:local', 'pod_stopped', 'redis-1'),
      ev(57.5, 'strategy:redeploy', 'source_terminated', '50.0 ms'),
      ev(80, 'platform:local', 'pod_created', 'redis-2 on node-b'),
      ev(95, 'platform:local', 'pod_started', 'redis-2'),
      ev(300, 'strategy:redeploy', 'ready', 'redis-2'),
      ev(315, 'platform:local', 'service_endpoint', 'redis -> redis-2 (198.18.0.3:6379)'),
    ];
    // A persistent Redis connection fails only when the old server exits, near the end of the stop.
    expect(downtimeAnatomy(migrationSegments(events, T, undefined), T + 55, T + 320)).toEqual(
      only({ anat_stop_ms: 2, anat_harness_ms: 0.5, anat_pod_setup_ms: 22.5, anat_start_ms: 15, anat_app_load_ms: 205, anat_switch_ms: 15, anat_client_ms: 5 }),
    );
  });

  it('with ip: preserve, the client part starts when the restored pod is attached again', () => {
    const events = [
      ev(1, 'platform:local', 'pod_detached', 'redis-1'),
      ev(2, 'platform:local', 'checkpoint_start'),
      ev(102, 'platform:local', 'checkpoint_done'),
      ev(110, 'platform:local', 'restore_start'),
      ev(200, 'platform:local', 'restore_done'),
      ev(204, 'platform:local', 'pod_attached', 'redis-2'),
      ev(206, 'strategy:criu', 'ready'),
      ev(220, 'platform:local', 'service_endpoint', 'redis -> redis-2 (198.18.0.3:6379)'),
    ];
    expect(downtimeAnatomy(migrationSegments(events, T, { freezingUs: 2_000, frozenUs: 90_000, restoreUs: 70_000 }), T + 5, T + 210)).toEqual(
      only({ anat_runtime_ms: 5 + 20, anat_freeze_ms: 2, anat_dump_ms: 90, anat_pod_setup_ms: 8, anat_restore_ms: 70, anat_switch_ms: 4, anat_client_ms: 6 }),
    );
  });

  it('leaves time no event explains unattributed: before the trigger, and a segment ended by an unknown platform event', () => {
    const events = [
      ev(0, 'trial', 'trigger'),
      ev(40, 'platform:elsewhere', 'something' as EventName), // a name the anatomy does not know (e.g. from a newer platform)
      ev(50, 'platform:local', 'service_endpoint', 'x -> x-2 (198.18.0.3:1)'),
    ];
    expect(downtimeAnatomy(migrationSegments(events, T, undefined), T - 10, T + 60)).toEqual(
      only({ anat_unattributed_ms: 10 + 40, anat_switch_ms: 10, anat_client_ms: 10 }),
    );
  });
});

describe('computeTrialMetrics', () => {
  const samples = (failedFrom: number, failedTo: number): Sample[] => {
    const out: Sample[] = [];
    for (let t = -100; t <= 600; t += 5) {
      const ok = !(t >= failedFrom && t <= failedTo);
      out.push({ probe: 'redis', scheduledAt: T + t, sentAt: T + t, doneAt: T + t + 1, ok, error: ok ? '' : 'timeout' });
    }
    return out;
  };
  const result = (s: Sample[]): TrialResult => ({
    runId: 'r',
    trial: 1,
    workload: 'redis',
    strategy: 'criu',
    repetition: 1,
    warmup: false,
    status: 'ok',
    startedAt: new Date(0),
    timeline: { triggerAt: T, samples: s, events: criuEvents },
    probeIntervalMs: 5,
    criu: criuStats,
    probeRecords: [],
  });

  it('writes the anatomy of the longest outage, adding up to downtime_ms', () => {
    const { metrics } = computeTrialMetrics(result(samples(60, 390)));
    expect(metrics.downtime_ms).toBe(335);
    expect(metrics.anat_freeze_ms).toBe(98);
    expect(metrics.anat_client_ms).toBe(9);
    expect(anatomyColumns.reduce((sum, c) => sum + metrics[c]!, 0)).toBe(335);
  });

  it('writes zeros when no sample failed', () => {
    const { metrics } = computeTrialMetrics(result(samples(1e9, 1e9)));
    expect(metrics.downtime_ms).toBe(0);
    expect(anatomyColumns.map((c) => metrics[c])).toEqual(anatomyColumns.map(() => 0));
  });
});
