// The phases of a kubelet-checkpoint move, from its events (strategies/kubelet-checkpoint.ts): each
// is the time between two consecutive steps the strategy reported, on the monotonic clock, so they
// add up to the migration up to the restored pod being ready. Empty for every other strategy.
import type { EventName } from '../model/events.ts';
import type { PhaseEvent } from '../model/timeline.ts';

/** kubelet-checkpoint's and runtime-restore's (the same steps; runtime-restore has no image, and its unpack, between transfer_done and restore_pod_created, is in no column). */
const SOURCES = new Set(['strategy:kubelet-checkpoint', 'strategy:runtime-restore']);

export const checkpointPhaseColumnDocs = {
  checkpoint_api_ms: {
    unit: 'ms',
    description: "kubelet-checkpoint: the kubelet's checkpoint call, request → answer: CRIU's dump and the archive written on the source node",
  },
  transfer_ms: {
    unit: 'ms',
    description: "kubelet-checkpoint: the archive copied from the source node's kubelet directory to the shared store (the seed's NFS)",
  },
  image_build_ms: {
    unit: 'ms',
    description: 'kubelet-checkpoint: the checkpoint image (OCI archive: the checkpoint archive as its layer) built from the stored archive',
  },
  image_import_ms: { unit: 'ms', description: "kubelet-checkpoint: the checkpoint image imported into the target node's containerd (ctr images import)" },
  image_push_ms: {
    unit: 'ms',
    description:
      "kubelet-checkpoint with delivery: registry: the source node's agent built the checkpoint image from the kubelet's archive and pushed it to the registry (in place of transfer, build and import)",
  },
  image_pull_ms: {
    unit: 'ms',
    description:
      "kubelet-checkpoint with delivery: registry: the target node's kubelet pulling the checkpoint image, as its Pulled event reports it (part of restore_ms; empty when the kubeconfig may not list events)",
  },
  restore_ms: {
    unit: 'ms',
    description:
      'kubelet-checkpoint, runtime-restore: restored pod created → Ready: scheduling, the sandbox, the runtime restoring the container with CRIU, the first readiness probe that passes (runtime-restore with targetPod before-dump: checkpoint unpacked → Ready)',
  },
} as const;

export type CheckpointPhaseColumn = keyof typeof checkpointPhaseColumnDocs;

/** [column, the step it starts after, the step that ends it]. */
const PHASES: ReadonlyArray<[Exclude<CheckpointPhaseColumn, 'image_pull_ms'>, EventName, EventName]> = [
  ['checkpoint_api_ms', 'checkpoint_request', 'checkpoint_done'],
  ['transfer_ms', 'checkpoint_done', 'transfer_done'],
  ['image_build_ms', 'transfer_done', 'image_built'],
  ['image_import_ms', 'image_built', 'image_imported'],
  ['image_push_ms', 'checkpoint_done', 'image_pushed'],
  ['restore_ms', 'restore_pod_created', 'ready'],
];

export function checkpointPhases(events: readonly PhaseEvent[]): Partial<Record<CheckpointPhaseColumn, number>> {
  const at = (event: EventName) => events.find((e) => SOURCES.has(e.source) && e.event === event)?.at;
  const phases: Partial<Record<CheckpointPhaseColumn, number>> = {};
  for (const [column, from, to] of PHASES) {
    const start = at(from);
    const end = at(to);
    if (start !== undefined && end !== undefined) phases[column] = end - start;
  }
  // runtime-restore's target pod created before the dump: its restore starts when the checkpoint is there.
  const unpacked = at('checkpoint_unpacked');
  const ready = at('ready');
  const created = at('restore_pod_created');
  if (unpacked !== undefined && ready !== undefined && created !== undefined && created < unpacked) phases.restore_ms = ready - unpacked;
  // Not between two of its events: the kubelet measured it, inside restore_ms (strategies/kubelet-checkpoint).
  const pulled = events.find((e) => SOURCES.has(e.source) && e.event === 'image_pulled')?.detail;
  const pullMs = pulled === undefined ? undefined : Number(/^([\d.]+) ms/.exec(pulled)?.[1]);
  if (pullMs !== undefined && Number.isFinite(pullMs)) phases.image_pull_ms = pullMs;
  return phases;
}
