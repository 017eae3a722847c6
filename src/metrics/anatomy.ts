// Where the downtime goes: the measured outage (the one downtime_ms is taken from) split into
// consecutive, non-overlapping parts, from the events the strategy and the platform recorded and
// CRIU's own timers.
//
// How: the migration's timeline after the trigger is cut into segments at every recorded event; a
// segment is labelled by the step that ends it (the event says what was just done: `pod_stopped`
// ends the stop, `service_endpoint` the switch). Two steps are cut further with CRIU's stats, which
// are durations, not instants: runc's checkpoint (checkpoint_start → checkpoint_done) ends with
// CRIU's frozen time (the dump) and, before it, its freezing time; whatever of the step is left is
// the runtime's (runc starting CRIU, destroying the container). The anchor is the step's end, so
// runc's work after CRIU is counted as before the freeze: that moves at most (outage start − freeze
// start) between anat_runtime_ms and anat_freeze_ms, less than one probe interval when the outage
// starts at the freeze. runc's restore (restore_start → restore_done) ends with CRIU's restore_time.
// From the moment the service points at a running pod again (the switch-in: service_endpoint to a
// pod, or, with `ip: preserve`, the restored pod re-attached; a switch made while CRIU restored the
// target counts from the restore's end), the rest is the client's: the next probe tick,
// reconnecting, ARP.
//
// The segments are then clipped to the measured outage [start of its first failed sample, start of
// the first successful one after], so the parts add up to downtime_ms; time in the outage that no
// labelled segment covers (before the first event, after an unknown platform's event) is
// anat_unattributed_ms, never spread over the others. Steps that run at the same time (drain with a
// Deployment: the old pod stops while the new one starts) are attributed to the one whose event
// comes first.
import type { CriuStats } from '../model/criu-stats.ts';
import type { EventName } from '../model/events.ts';
import type { PhaseEvent } from '../model/timeline.ts';

export const anatomyParts = [
  'freeze',
  'dump',
  'runtime',
  'transfer',
  'image',
  'pod_setup',
  'sandbox',
  'container_create',
  'restore',
  'stop',
  'start',
  'pleg',
  'app_load',
  'ready',
  'endpoints',
  'proxy',
  'switch',
  'harness',
  'client',
] as const;
export type AnatomyPart = (typeof anatomyParts)[number];

/** The anatomy's trials.csv columns, in order, with their unit and meaning (docs/results.md is generated from them). */
export const anatomyColumnDocs = {
  anat_freeze_ms: {
    unit: 'ms',
    description:
      'part of the outage spent freezing the pod: CRIU freezing_time, and the platform freezing the cgroup itself with a criu strategy option freezer: harness or action-script (criu strategies)',
  },
  anat_dump_ms: {
    unit: 'ms',
    description:
      'part of the outage the pod stayed frozen while CRIU dumped it (CRIU frozen_time; for criu-lazy, whose CRIU stats are unusable, the whole checkpoint step)',
  },
  anat_runtime_ms: {
    unit: 'ms',
    description:
      "part of the outage spent in the container runtime outside CRIU's own timers, checkpoint and restore sides (runc starting CRIU, destroying and creating containers)",
  },
  anat_transfer_ms: { unit: 'ms', description: 'part of the outage spent copying the images to the target node (local.nodeLink only)' },
  anat_image_ms: {
    unit: 'ms',
    description: "part of the outage spent building the checkpoint image and importing it into the target node's containerd (kubelet-checkpoint)",
  },
  anat_pod_setup_ms: {
    unit: 'ms',
    description:
      "part of the outage the platform spent creating the target pod's network and bundle before restoring or starting it (redeploy/drain: also removing the source pod; kubernetes: scheduling)",
  },
  anat_sandbox_ms: {
    unit: 'ms',
    description:
      "part of the outage from the target pod scheduled to its sandbox running: the kubelet's pod worker, the network namespace, CNI, the pause container (kubernetes; containerd's event stream through the node agent)",
  },
  anat_container_create_ms: {
    unit: 'ms',
    description:
      "part of the outage from the sandbox running to containerd holding the app container (kubernetes: the kubelet's CreateContainer, image and mounts)",
  },
  anat_restore_ms: {
    unit: 'ms',
    description:
      'part of the outage CRIU spent restoring (CRIU restore_time; kubernetes checkpoint strategies: the restored container created → its task running, the runtime restoring it; without containerd timestamps from the sandbox on)',
  },
  anat_stop_ms: { unit: 'ms', description: 'part of the outage spent stopping the source pod: SIGTERM → exited (redeploy, drain)' },
  anat_start_ms: {
    unit: 'ms',
    description:
      "part of the outage the runtime spent starting the new pod's process (redeploy, drain; kubernetes: container created → task started, without containerd timestamps from scheduling on)",
  },
  anat_pleg_ms: {
    unit: 'ms',
    description:
      "part of the outage from containerd starting the container to the API showing it running: the kubelet's PLEG noticing (relist period, or evented PLEG) and its status write (kubernetes)",
  },
  anat_app_load_ms: {
    unit: 'ms',
    description:
      'part of the outage from the new process started to the readiness check passing: the app starting and loading its data, e.g. Redis replaying its AOF (redeploy, drain)',
  },
  anat_ready_ms: {
    unit: 'ms',
    description:
      "part of the outage from the restore's end to the harness's readiness check passing (criu strategies; kubernetes checkpoint strategies: running → Ready in the API, the kubelet's readiness probe period and its status write)",
  },
  anat_endpoints_ms: {
    unit: 'ms',
    description:
      "part of the outage from Ready in the API to the Service's EndpointSlice naming the pod as its only ready endpoint (the EndpointSlice controller; kubernetes)",
  },
  anat_proxy_ms: {
    unit: 'ms',
    description:
      "part of the outage from the EndpointSlice update to kube-proxy on the probed node finishing the rule sync that carries it (its sync period and minSyncPeriod; kubernetes, from kube-proxy's own metric)",
  },
  anat_switch_ms: {
    unit: 'ms',
    description:
      'part of the outage spent switching traffic: service endpoint rules (iptables), cordoning, and with ip: preserve detaching the source and attaching and announcing (ARP) the target',
  },
  anat_harness_ms: {
    unit: 'ms',
    description: "part of the outage in the harness's own steps between the platform's (strategy bookkeeping, CRIU configuration files)",
  },
  anat_client_ms: {
    unit: 'ms',
    description:
      "part of the outage from the service pointing at the running pod again (kubernetes: kube-proxy's rules synced; a criu strategy with serviceSwitch: during-restore: the restore's end) to the probe's first success: the next tick (up to probe_interval_ms), reconnecting, ARP",
  },
  anat_unattributed_ms: {
    unit: 'ms',
    description:
      'part of the outage no recorded event explains (before the first event after the trigger, or after an event of unknown meaning); the anat_* columns add up to downtime_ms',
  },
} as const;

export type AnatomyColumn = keyof typeof anatomyColumnDocs;
export const anatomyColumns = Object.keys(anatomyColumnDocs) as AnatomyColumn[];
export const anatomyColumn = (part: AnatomyPart): AnatomyColumn => `anat_${part}_ms` as AnatomyColumn;

/** The parts that are the harness's own work between CRIU's (or the runtime's) steps. */
export const harnessParts: readonly AnatomyPart[] = ['pod_setup', 'ready', 'switch', 'harness'];

/**
 * The cluster's own control loops after the target pod exists (kubernetes), each with the setting of
 * the user's cluster it waits on (`migbench cluster start` options and kubernetes.readinessProbe;
 * docs/methodology.md): the summary names the one a migration waits on most.
 */
export const clusterLoopSettings: Partial<Record<AnatomyPart, string>> = {
  pod_setup: 'the scheduler',
  sandbox: "the runtime's sandbox and CNI",
  container_create: "the runtime's container create",
  pleg: "the kubelet's PLEG (relist period; EventedPLEG)",
  ready: "the readiness probe's period",
  app_load: "the app's start and the readiness probe's period",
  endpoints: 'the EndpointSlice controller',
  proxy: "kube-proxy's minSyncPeriod and mode",
};

export interface Segment {
  from: number;
  to: number;
  part: AnatomyPart;
}

// What the step that ends at an event was. Events not named here end an unattributed segment,
// unless the trial or a strategy recorded them (then they are the harness's own bookkeeping).
const partEndingAt: Partial<Record<EventName, AnatomyPart>> = {
  node_cordoned: 'switch',
  node_uncordoned: 'switch',
  service_endpoint: 'switch',
  pod_detached: 'switch',
  pod_attached: 'switch',
  checkpoint_start: 'harness',
  freeze_start: 'harness',
  freeze_done: 'freeze',
  transfer_done: 'transfer',
  pod_created: 'pod_setup',
  pod_scheduled: 'pod_setup',
  restore_start: 'pod_setup',
  pod_sigterm: 'stop',
  pod_sigkill: 'stop',
  pod_stopped: 'stop',
  source_deleting: 'stop',
  source_deleted: 'stop',
  evicted: 'stop',
  pod_started: 'start',
  containers_started: 'start',
  pod_ready: 'app_load',
  pre_dump_done: 'dump',
};

/**
 * Events that mark no step of their own: the probes' observations and the platform's settings made
 * on the way (`sysctl` before a dump); the time before them belongs to the step they fall in.
 */
const notBoundaries = (e: PhaseEvent) => e.source.startsWith('probe:') || (e.source === 'trial' && e.event === 'trigger') || e.event === 'sysctl';

/** The runtime's process ended: the events that close a dump (runc checkpoint, or direct CRIU). */
const dumpEnds = new Set<EventName>(['checkpoint_done', 'transfer_start']);
const dumpStarts = new Set<EventName>(['checkpoint_start', 'freeze_done', 'checkpoint_request']);

/**
 * kubelet-checkpoint's steps (strategies/kubelet-checkpoint/), and runtime-restore's, the same but for the image. Its restored pod is Ready while the
 * stopped source may still be an endpoint, so the service is back only once the Service's endpoints
 * name the restored pod alone (endpoint_switched); kube-proxy's rules follow within its sync period,
 * which the client's part then holds.
 */
const KUBELET_CHECKPOINT = new Set(['strategy:kubelet-checkpoint', 'strategy:runtime-restore']);
const kubeletCheckpointPartEndingAt: Partial<Record<EventName, AnatomyPart>> = {
  image_built: 'image',
  image_imported: 'image',
  // runtime-restore: the archive unpacked on the target, still part of delivering it.
  checkpoint_unpacked: 'transfer',
  restore_waiting: 'pod_setup',
  // delivery: registry — the source's agent built the image and pushed it (the archive's copy off the node)
  image_pushed: 'transfer',
  restore_pod_created: 'pod_setup',
  pod_scheduled: 'pod_setup',
  containers_started: 'restore',
  pod_ready: 'ready',
  ready: 'ready',
  service_switched: 'switch',
  source_deleting: 'switch',
  endpoint_switched: 'switch',
};

/**
 * The moved pod's chain on a cluster (platforms/kubernetes/driver/outage-breakdown.ts): each step is
 * labelled by the loop that ends it. A checkpointed pod (a strategy that restores, not starts) has
 * `restore` and `ready` where a started one has `start` and `app_load`.
 */
const BREAKDOWN_SOURCE = 'platform:kubernetes';
const chainPartEndingAt = (checkpointed: boolean, containerStarted: boolean): Partial<Record<EventName, AnatomyPart>> => ({
  target_pod_scheduled: 'pod_setup',
  sandbox_ready: 'sandbox',
  container_created: 'container_create',
  container_started: checkpointed ? 'restore' : 'start',
  kubelet_running: containerStarted ? 'pleg' : checkpointed ? 'restore' : 'start',
  kubelet_ready: checkpointed ? 'ready' : 'app_load',
  endpoint_ready: 'endpoints',
  proxy_synced: 'proxy',
});
/** The moved pod's chain was recorded: the anatomy follows it rather than the strategy's own observations. */
const chainStart = (events: readonly PhaseEvent[], triggerAt: number) =>
  events.find((e) => e.source === BREAKDOWN_SOURCE && e.event === 'target_pod_created' && e.at >= triggerAt);
/** A strategy that restores a checkpoint into the target pod (its restore is the runtime's create). */
const isCheckpointed = (events: readonly PhaseEvent[]) =>
  events.some((e) => KUBELET_CHECKPOINT.has(e.source) || (e.source.startsWith('strategy:') && e.event === 'checkpoint_request'));

/** When the service pointed at a running pod again: the first switch-in after the trigger. */
export function serviceBackAt(events: readonly PhaseEvent[], triggerAt: number): number | undefined {
  // On a cluster with the chain recorded: when kube-proxy's rules carry the pod (else its endpoint, else Ready).
  if (chainStart(events, triggerAt)) {
    for (const last of ['proxy_synced', 'endpoint_ready', 'kubelet_ready'] as EventName[]) {
      const e = events.find((x) => x.source === BREAKDOWN_SOURCE && x.event === last && x.at >= triggerAt);
      if (e) return e.at;
    }
  }
  const checkpointed = events.some((e) => KUBELET_CHECKPOINT.has(e.source));
  const back = events.filter(
    (e) =>
      e.at >= triggerAt &&
      ((e.source === 'platform:local' && e.event === 'service_endpoint' && !(e.detail ?? '').endsWith('-> none')) ||
        (e.source === 'platform:local' && e.event === 'pod_attached') ||
        (!checkpointed && e.source === 'platform:kubernetes' && e.event === 'pod_ready') ||
        (KUBELET_CHECKPOINT.has(e.source) && e.event === 'endpoint_switched')),
  );
  // Switched while CRIU restored the target (serviceSwitch: during-restore): the pod runs from the
  // restore's end; a switch to a target whose restore failed brought nothing back.
  const at = back.map((e) => (duringRestore(events, e) ? restoreEndAfter(events, e)?.at : e.at)).filter((t) => t !== undefined);
  return at.length === 0 ? undefined : Math.min(...at);
}

const isLocalRestoreStep = (x: PhaseEvent) => x.source === 'platform:local' && (x.event === 'restore_start' || x.event === 'restore_done');

/** A local service switch made while CRIU restored the target (restore_start before it, no restore_done between). */
function duringRestore(events: readonly PhaseEvent[], e: PhaseEvent): boolean {
  if (e.source !== 'platform:local' || e.event !== 'service_endpoint') return false;
  return events.filter((x) => isLocalRestoreStep(x) && x.at <= e.at).at(-1)?.event === 'restore_start';
}

/** The end of the restore running at `e`; undefined when it failed (the next step is another restore, a fallback's). */
function restoreEndAfter(events: readonly PhaseEvent[], e: PhaseEvent): PhaseEvent | undefined {
  const after = events.find((x) => isLocalRestoreStep(x) && x.at >= e.at);
  return after?.event === 'restore_done' ? after : undefined;
}

/**
 * The migration's timeline from the trigger, as consecutive labelled segments (a gap between two
 * is time no event explains). The last segment, from the switch-in, is the client's and open-ended.
 */
export function migrationSegments(events: readonly PhaseEvent[], triggerAt: number, criu: CriuStats | undefined): Segment[] {
  const back = serviceBackAt(events, triggerAt);
  const checkpointed = events.some((e) => KUBELET_CHECKPOINT.has(e.source));
  const chain = chainStart(events, triggerAt);
  const chainParts = chainPartEndingAt(
    isCheckpointed(events),
    events.some((e) => e.source === BREAKDOWN_SOURCE && e.event === 'container_started' && e.at >= triggerAt),
  );
  // With the moved pod's chain recorded, the steps before its creation are the strategy's; from it
  // on, only the chain cuts (the source's deletion, the strategy's waits on the same pod observe it).
  const inChain = (e: PhaseEvent) => e.source === BREAKDOWN_SOURCE && (e.event === 'target_pod_created' || chainParts[e.event] !== undefined);
  // A target pod made before the dump (it waits, sandbox ready, for the checkpoint): the strategy's
  // steps until its container is created still cut — the dump, the transfer happen inside the chain.
  const containerAt = events.find(
    (e) => e.source === BREAKDOWN_SOURCE && (e.event === 'container_created' || e.event === 'kubelet_running') && e.at >= triggerAt,
  )?.at;
  const strategyStepInChain = (e: PhaseEvent) => e.source.startsWith('strategy:') && containerAt !== undefined && e.at < containerAt;
  const boundaries = events
    // A switch made while CRIU restores runs beside the restore, not after it: the restore's end is the step's.
    .filter((e) => e.at >= triggerAt && !notBoundaries(e) && !duringRestore(events, e))
    .filter((e) => back === undefined || e.at < back || (e.at === back && e.source === 'platform:local' && e.event === 'restore_done'))
    .filter((e) => chain === undefined || (e.at < chain.at ? e.source !== BREAKDOWN_SOURCE : inChain(e) || strategyStepInChain(e)))
    .sort((a, b) => a.at - b.at);
  const segments: Segment[] = [];
  const push = (from: number, to: number, part: AnatomyPart) => {
    if (to > from) segments.push({ from, to, part });
  };
  let prev: { at: number; event: EventName } = { at: triggerAt, event: 'trigger' };
  for (const e of boundaries) {
    const kubeletCheckpointPart = checkpointed ? kubeletCheckpointPartEndingAt[e.event] : undefined;
    const chainPart = chain && e.source === BREAKDOWN_SOURCE ? chainParts[e.event] : undefined;
    if (chainPart) {
      push(prev.at, e.at, chainPart);
    } else if (chain && e === chain) {
      // The API server holds the target pod: its creation asked for by the strategy or a controller.
      push(prev.at, e.at, 'pod_setup');
    } else if (kubeletCheckpointPart) {
      push(prev.at, e.at, kubeletCheckpointPart);
    } else if (dumpEnds.has(e.event) && dumpStarts.has(prev.event)) {
      splitDump(prev.at, e.at, criu, prev.event === 'freeze_done', push);
    } else if (e.event === 'checkpoint_done') {
      push(prev.at, e.at, prev.event === 'transfer_done' ? 'transfer' : 'harness');
    } else if (e.event === 'restore_done') {
      // CRIU's restore ends the step; runc's work around it is the runtime's.
      const restoreFrom = criu?.restoreUs === undefined ? e.at : Math.max(prev.at, e.at - criu.restoreUs / 1000);
      push(prev.at, restoreFrom, 'runtime');
      push(restoreFrom, e.at, 'restore');
    } else if (e.event === 'ready' && e.source.startsWith('strategy:')) {
      push(prev.at, e.at, (['pod_started', 'containers_started', 'pod_ready'] as EventName[]).includes(prev.event) ? 'app_load' : 'ready');
    } else {
      const part = partEndingAt[e.event] ?? (e.source === 'trial' || e.source.startsWith('strategy:') ? 'harness' : undefined);
      if (part) push(prev.at, e.at, part);
    }
    prev = e;
  }
  if (back !== undefined) {
    push(prev.at, back, chain ? (chainParts[events.find((e) => e.at === back && e.source === BREAKDOWN_SOURCE)?.event as EventName] ?? 'switch') : 'switch');
    segments.push({ from: back, to: Infinity, part: 'client' });
  }
  return segments;
}

/** runc's checkpoint step, end-anchored: [runtime][CRIU freezing][CRIU frozen] (see the header). */
function splitDump(
  from: number,
  to: number,
  criu: CriuStats | undefined,
  harnessFroze: boolean,
  push: (from: number, to: number, part: AnatomyPart) => void,
): void {
  if (criu?.frozenUs === undefined) {
    push(from, to, 'dump');
    return;
  }
  const dumpFrom = Math.max(from, to - criu.frozenUs / 1000);
  // With the harness's own freeze before runc, CRIU's freezing_time is its check that the cgroup is frozen.
  const freezeFrom = Math.max(from, dumpFrom - (criu.freezingUs ?? 0) / 1000);
  // Frozen by CRIU's pre-dump action script: that freeze came before CRIU's (its initialisation in between is counted with the runtime).
  const scriptFreezeFrom = Math.max(from, freezeFrom - (criu.harnessFreezeUs ?? 0) / 1000);
  push(from, scriptFreezeFrom, 'runtime');
  push(scriptFreezeFrom, freezeFrom, 'freeze');
  push(freezeFrom, dumpFrom, harnessFroze ? 'runtime' : 'freeze');
  push(dumpFrom, to, 'dump');
}

/**
 * The parts of the outage [startAt, endAt] (its first failed tick → its first successful tick
 * after), in ms per column; they add up to endAt − startAt.
 */
export function downtimeAnatomy(segments: readonly Segment[], startAt: number, endAt: number): Record<AnatomyColumn, number> {
  const parts = Object.fromEntries(anatomyColumns.map((c) => [c, 0])) as Record<AnatomyColumn, number>;
  let attributed = 0;
  for (const s of segments) {
    const overlap = Math.min(s.to, endAt) - Math.max(s.from, startAt);
    if (overlap <= 0) continue;
    parts[anatomyColumn(s.part)] += overlap;
    attributed += overlap;
  }
  parts.anat_unattributed_ms = Math.max(0, endAt - startAt - attributed);
  return parts;
}
