// kubelet-checkpoint's phase columns from its events, and where its downtime goes, on a hand-made
// timeline shaped after a real trial's events.csv (times in ms, trigger at 1000).
import { expect, it } from 'vitest';
import { anatomyColumns, downtimeAnatomy, migrationSegments } from '../../src/metrics/anatomy.ts';
import { checkpointPhases } from '../../src/metrics/checkpoint-phases.ts';
import type { EventName } from '../../src/model/events.ts';
import type { PhaseEvent } from '../../src/model/timeline.ts';

const T = 1000;
const ev = (t: number, source: string, event: EventName): PhaseEvent => ({ at: T + t, source, event });
const KC = 'strategy:kubelet-checkpoint';
const K8S = 'platform:kubernetes';

const events = [
  ev(0, 'trial', 'trigger'),
  ev(2, KC, 'checkpoint_request'),
  ev(130, 'probe:redis', 'connection_closed'),
  ev(242, KC, 'checkpoint_done'),
  ev(248, KC, 'transfer_done'),
  ev(285, KC, 'image_built'),
  ev(401, KC, 'image_imported'),
  ev(418, KC, 'restore_pod_created'),
  ev(430, K8S, 'pod_scheduled'),
  ev(700, K8S, 'containers_started'),
  ev(1199, K8S, 'pod_ready'),
  ev(1200, KC, 'ready'),
  ev(1225, KC, 'source_deleting'),
  ev(1350, KC, 'endpoint_switched'),
  ev(4366, KC, 'source_removed'),
];

it('gives each upstream phase as the time between the steps that bound it', () => {
  expect(checkpointPhases(events)).toEqual({ checkpoint_api_ms: 240, transfer_ms: 6, image_build_ms: 37, image_import_ms: 116, restore_ms: 782 });
});

it('leaves the phases of a step that never came out (a failed trial), and every other strategy has none', () => {
  expect(checkpointPhases(events.filter((e) => e.at < T + 300))).toEqual({ checkpoint_api_ms: 240, transfer_ms: 6, image_build_ms: 37 });
  expect(checkpointPhases([ev(0, 'strategy:criu', 'checkpoint_done'), ev(5, 'strategy:redeploy', 'ready')])).toEqual({});
});

it('splits its outage: CRIU in the checkpoint call, the image, the restore, and the switch until the endpoints name the restored pod', () => {
  const segments = migrationSegments(events, T, { freezingUs: 1_000, frozenUs: 89_000 });
  // The service is back when the endpoints name the restored pod alone, not when it is Ready (the stopped source was still an endpoint).
  expect(segments.at(-1)).toEqual({ from: T + 1350, to: Infinity, part: 'client' });
  const parts = downtimeAnatomy(segments, T + 130, T + 2350);
  expect(parts).toEqual({
    ...Object.fromEntries(anatomyColumns.map((c) => [c, 0])),
    // checkpoint_request → checkpoint_done, end-anchored: [runtime 150][freeze 1][dump 89]; the outage starts at 130.
    anat_runtime_ms: 22,
    anat_freeze_ms: 1,
    anat_dump_ms: 89,
    anat_transfer_ms: 6,
    anat_image_ms: 37 + 116,
    anat_pod_setup_ms: 17 + 12,
    anat_restore_ms: 270,
    anat_ready_ms: 499 + 1,
    anat_switch_ms: 25 + 125,
    anat_client_ms: 1000,
  });
  expect(Object.values(parts).reduce((a, b) => a + b, 0)).toBeCloseTo(2220, 6);
});

it('runtime-restore: the same phases without the image; with the target pod created before the dump, its restore starts at the unpacked checkpoint', () => {
  const RR = 'strategy:runtime-restore';
  const after = [
    ev(2, RR, 'checkpoint_request'),
    ev(242, RR, 'checkpoint_done'),
    ev(250, RR, 'transfer_done'),
    ev(262, RR, 'checkpoint_unpacked'),
    ev(270, RR, 'restore_pod_created'),
    ev(900, RR, 'ready'),
  ];
  expect(checkpointPhases(after)).toEqual({ checkpoint_api_ms: 240, transfer_ms: 8, restore_ms: 630 });
  const before = [
    ev(1, RR, 'restore_pod_created'),
    ev(600, RR, 'restore_waiting'),
    ev(602, RR, 'checkpoint_request'),
    ev(842, RR, 'checkpoint_done'),
    ev(850, RR, 'transfer_done'),
    ev(862, RR, 'checkpoint_unpacked'),
    ev(1000, RR, 'ready'),
  ];
  expect(checkpointPhases(before)).toEqual({ checkpoint_api_ms: 240, transfer_ms: 8, restore_ms: 138 });
});

it('with delivery: registry, the push between the checkpoint and the restored pod, and the pull as the kubelet measured it', () => {
  const registry = [
    ev(0, 'trial', 'trigger'),
    ev(2, KC, 'checkpoint_request'),
    ev(242, KC, 'checkpoint_done'),
    ev(375, KC, 'image_pushed'),
    ev(380, KC, 'restore_pod_created'),
    ev(1480, KC, 'ready'),
    { at: T + 4400, source: KC, event: 'image_pulled' as const, detail: '209.5 ms by the kubelet on worker-b (its Pulled event)' },
  ];
  expect(checkpointPhases(registry)).toEqual({ checkpoint_api_ms: 240, image_push_ms: 133, image_pull_ms: 209.5, restore_ms: 1100 });
  // The push is the archive's copy off the node: the anatomy's transfer.
  const segments = migrationSegments(registry, T, undefined);
  expect(segments.find((s) => s.from === T + 242)).toEqual({ from: T + 242, to: T + 375, part: 'transfer' });
});
