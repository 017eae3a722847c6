// The kubernetes outage broken down to its control loops, on hand-made timelines shaped after real
// lab trials' events.csv (run 20261206T205925Z-anatomy-check; times in ms from the trigger at 1000).
import { describe, expect, it } from 'vitest';
import { anatomyColumns, downtimeAnatomy, migrationSegments, serviceBackAt } from '../../src/metrics/anatomy.ts';
import type { EventName } from '../../src/model/events.ts';
import { whereItWent } from '../../src/report/summary.ts';
import type { PhaseEvent } from '../../src/model/timeline.ts';

const T = 1000;
const ev = (t: number, source: string, event: EventName, detail?: string): PhaseEvent => ({ at: T + t, source, event, ...(detail ? { detail } : {}) });
const K = 'platform:kubernetes';
const only = (parts: Record<string, number>) => ({ ...Object.fromEntries(anatomyColumns.map((c) => [c, 0])), ...parts });
const close = (actual: Record<string, number>, expected: Record<string, number>) => {
  for (const [k, v] of Object.entries(expected)) expect(actual[k], k).toBeCloseTo(v, 6);
};

/** The moved pod's chain as outage-breakdown.ts records it, from `created` on (offsets in ms). */
const chain = (at: Partial<Record<EventName, number>>) => Object.entries(at).map(([event, t]) => ev(t!, K, event as EventName, 'uid-new'));

const drainEvents = [
  ev(0, 'trial', 'trigger', 'drain: worker-a -> worker-b'),
  ev(20, 'strategy:drain', 'node_cordoned', 'worker-a'),
  ev(110, K, 'pod_terminating', 'old node=worker-a'),
  ev(128, 'strategy:drain', 'evicted', 'old'),
  ev(144, K, 'pod_created', 'new'),
  ev(149, K, 'pod_scheduled', 'new node=worker-b'),
  ev(462, K, 'pod_unready', 'old'),
  ev(1016, K, 'containers_started', 'new'),
  ev(1058, K, 'pod_ready', 'new'),
  ev(1058.5, 'strategy:drain', 'ready', 'new on worker-b'),
  ev(1406, K, 'pod_deleted', 'old'),
  ev(1407, 'strategy:drain', 'source_deleted', 'old'),
  ev(1508, 'strategy:drain', 'node_uncordoned', 'worker-a'),
  ev(1508.5, 'trial', 'migrated', 'new'),
  ...chain({
    target_pod_created: 143,
    target_pod_scheduled: 149,
    sandbox_ready: 794,
    container_created: 832,
    container_started: 942,
    kubelet_running: 1016,
    kubelet_ready: 1058,
    endpoint_ready: 1066,
    proxy_synced: 1153,
  }),
];

describe('the kubernetes outage by control loop', () => {
  it('follows the moved pod from its creation to kube-proxy’s sync: the old pod’s deletion and the strategy’s waits do not cut it', () => {
    // The outage: the evicted Redis stops answering at 134, the first answer after kube-proxy's sync at 1164.
    const parts = downtimeAnatomy(migrationSegments(drainEvents, T, undefined), T + 134, T + 1164);
    close(
      parts,
      only({
        anat_pod_setup_ms: 15, // 134 → 143 (the ReplicaSet's create) and → 149 (scheduled)
        anat_sandbox_ms: 645,
        anat_container_create_ms: 38,
        anat_start_ms: 110,
        anat_pleg_ms: 74,
        anat_app_load_ms: 42,
        anat_endpoints_ms: 8,
        anat_proxy_ms: 87,
        anat_client_ms: 11,
      }),
    );
    expect(Object.values(parts).reduce((a, b) => a + b, 0)).toBeCloseTo(1030, 6);
    expect(serviceBackAt(drainEvents, T)).toBe(T + 1153);
  });

  it('a checkpointed pod restores where a started one starts, and is ready where it loads; the steps before its creation stay the strategy’s', () => {
    const kc = 'strategy:kubelet-checkpoint';
    const events = [
      ev(0, 'trial', 'trigger'),
      ev(1, kc, 'checkpoint_request', 'redis on worker-a'),
      ev(390, kc, 'checkpoint_done', '5 MB'),
      ev(440, kc, 'transfer_done'),
      ev(560, kc, 'image_built'),
      ev(680, kc, 'image_imported'),
      ev(700, kc, 'restore_pod_created'),
      ev(1881, kc, 'ready'),
      ev(1890, kc, 'source_deleting'),
      ev(2025, kc, 'endpoint_switched'),
      ...chain({
        target_pod_created: 702,
        target_pod_scheduled: 703,
        sandbox_ready: 1253,
        container_created: 1325,
        container_started: 1727,
        kubelet_running: 1805,
        kubelet_ready: 1880,
        endpoint_ready: 2020,
        proxy_synced: 2935,
      }),
    ];
    const segments = migrationSegments(events, T, { frozenUs: 150_000, freezingUs: 1_000 });
    const parts = downtimeAnatomy(segments, T + 1, T + 2947);
    close(
      parts,
      only({
        anat_runtime_ms: 389 - 151,
        anat_freeze_ms: 1,
        anat_dump_ms: 150,
        anat_transfer_ms: 50,
        anat_image_ms: 240,
        anat_pod_setup_ms: 23,
        anat_sandbox_ms: 550,
        anat_container_create_ms: 72,
        anat_restore_ms: 402,
        anat_pleg_ms: 78,
        anat_ready_ms: 75,
        anat_endpoints_ms: 140,
        anat_proxy_ms: 915,
        anat_client_ms: 12,
      }),
    );
    // The strategy's own `ready`, `source_deleting`, `endpoint_switched` observe the chain: none is a part.
    expect(parts.anat_switch_ms).toBe(0);
    expect(parts.anat_unattributed_ms).toBe(0);
  });

  it('a target pod made before the dump: the strategy’s steps while it waits are cut as theirs, its container create and restore after', () => {
    const rr = 'strategy:runtime-restore';
    const events = [
      ev(0, 'trial', 'trigger'),
      ...chain({ target_pod_created: 5, target_pod_scheduled: 6, sandbox_ready: 500 }),
      ev(510, rr, 'checkpoint_request'),
      ev(700, rr, 'checkpoint_done'),
      ev(720, rr, 'transfer_done'),
      ...chain({ container_created: 760, container_started: 900, kubelet_running: 950, kubelet_ready: 1000, endpoint_ready: 1010, proxy_synced: 1040 }),
    ];
    // The outage starts at the dump (the source frozen at 600).
    close(
      downtimeAnatomy(migrationSegments(events, T, { frozenUs: 100_000 }), T + 600, T + 1050),
      only({
        anat_dump_ms: 100,
        anat_transfer_ms: 20,
        anat_container_create_ms: 40,
        anat_restore_ms: 140,
        anat_pleg_ms: 50,
        anat_ready_ms: 50,
        anat_endpoints_ms: 10,
        anat_proxy_ms: 30,
        anat_client_ms: 10,
      }),
    );
  });

  it('without containerd’s timestamps (no agent), the kubelet’s report ends the start; without kube-proxy’s, the endpoint is the switch-in', () => {
    const events = drainEvents.filter((e) => !['sandbox_ready', 'container_created', 'container_started', 'proxy_synced'].includes(e.event));
    expect(serviceBackAt(events, T)).toBe(T + 1066);
    close(
      downtimeAnatomy(migrationSegments(events, T, undefined), T + 134, T + 1164),
      only({ anat_pod_setup_ms: 15, anat_start_ms: 867, anat_app_load_ms: 42, anat_endpoints_ms: 8, anat_client_ms: 98 }),
    );
  });

  it('without the chain (a simulated cluster, no probes) a drain is cut by the pod watch as before: the replacement Ready is the switch-in', () => {
    const events = drainEvents.filter((e) => !e.detail?.startsWith('uid-'));
    expect(serviceBackAt(events, T)).toBe(T + 1058);
  });
});

describe('the summary names the setting a kubernetes migration waits on most', () => {
  it('the largest of the cluster’s loops, with its setting; nothing for an outage not followed to kube-proxy', () => {
    expect(whereItWent({ proxy: 915, sandbox: 550, restore: 402, image: 240, client: 12 })).toBe(
      "proxy 915.0 · sandbox 550.0 · restore 402.0 · image 240.0 · client 12.0 (harness 0.0; waits most on kube-proxy's minSyncPeriod and mode (proxy))",
    );
    expect(whereItWent({ app_load: 1079, stop: 818, proxy: 506, sandbox: 448 })).toBe(
      "app_load 1079.0 · stop 818.0 · proxy 506.0 · sandbox 448.0 (harness 0.0; waits most on the app's start and the readiness probe's period (app_load))",
    );
    expect(whereItWent({ dump: 200, pod_setup: 40, switch: 20 })).toBe('dump 200.0 · pod_setup 40.0 · switch 20.0 (harness 60.0)');
  });
});
