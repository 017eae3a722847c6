// Every event name a trial's timeline can hold, in one list per who emits them. The anatomy
// (metrics/anatomy.ts) and the phase metrics (metrics/checkpoint-phases.ts) match events by name, so
// a name is a type: an emitter that renames its event, or a metric that matches a name nobody emits,
// fails the typecheck instead of moving time silently into anat_unattributed_ms.

/** The phases of the one trial lifecycle (runner/trial.ts), in order; each is announced as `phase:<name>`. */
export const trialPhases = ['deploy', 'prepare', 'settle', 'migrate', 'observe', 'verify', 'teardown'] as const;
export type TrialPhase = (typeof trialPhases)[number];

/** The trial's own events (runner/trial.ts, trial-parts.ts and the platforms' trial steps). */
export const trialEvents = [
  'trigger',
  'migrated',
  'failed',
  'observe_after_failure',
  'observe_failed',
  // Probing went on past the observation window until every probe's newest tick was answered (ProbeSession.endOnAnswer).
  'probes_end_wait',
  'pod_ready',
  'nodes_swapped',
  'evacuation_pod_start',
  // An evacuation on a cluster (platforms/kubernetes/driver/evacuation.ts): its source someone else had cordoned; its uncordon refused.
  'node_already_cordoned',
  'uncordon_failed',
] as const;

/** The local platform's steps (platforms/local/): pods, the service, CRIU's checkpoint and restore. */
export const localPlatformEvents = [
  'node_cordoned',
  'node_uncordoned',
  'pod_created',
  'pod_started',
  'pod_sigterm',
  'pod_sigkill',
  'pod_stopped',
  'service_endpoint',
  'pod_detached',
  'pod_attached',
  'pre_dump_start',
  'pre_dump_done',
  'checkpoint_start',
  'freeze_start',
  'freeze_done',
  'source_thawed',
  'checkpoint_failed',
  'checkpoint_done',
  'transfer_start',
  'transfer_done',
  'sysctl',
  'restore_start',
  'restore_failed',
  'restore_done',
  'memory_complete',
  // The test-only injected regression (platforms/local/test-switch-delay.ts): never in a real measurement.
  'test_switch_delay',
] as const;

/** What the pod watch saw of each pod on a cluster (platforms/kubernetes/pod-watch.ts). */
export const podWatchEvents = ['pod_created', 'pod_scheduled', 'containers_started', 'pod_ready', 'pod_unready', 'pod_terminating', 'pod_deleted'] as const;

/**
 * The moved pod's way back to serving on a cluster, each from the component's own record
 * (platforms/kubernetes/driver/outage-breakdown.ts), for every kubernetes strategy: any strategy
 * that creates a target pod gets them without emitting anything itself.
 */
export const podBreakdownEvents = [
  // the API server holds the target pod (this client's watch received it)
  'target_pod_created',
  // the scheduler bound it to a node (nodeName in the watch)
  'target_pod_scheduled',
  // containerd: the pod sandbox's task started (its network set up by CNI before), from containerd's event stream
  'sandbox_ready',
  // containerd: the app container created, and its task started (a CRIU restore ends here)
  'container_created',
  'container_started',
  // the kubelet reported the container running (its PLEG saw it; containerStatuses in the watch)
  'kubelet_running',
  // the kubelet's readiness probe passed and it wrote Ready (the Ready condition in the watch)
  'kubelet_ready',
  // the EndpointSlice controller listed the pod as the Service's only ready endpoint
  'endpoint_ready',
  // kube-proxy on the probed node finished its first rule sync after that (kubeproxy_sync_proxy_rules_last_timestamp_seconds)
  'proxy_synced',
  // kube-proxy's metric could not be read (its detail says why): the chain ends at endpoint_ready
  'proxy_unknown',
] as const;

/** The strategies' steps (src/strategies/). */
export const strategyEvents = [
  // criu, criu-precopy, criu-pageserver, criu-lazy
  'pre_dump',
  'checkpoint',
  'source_kept',
  'restore',
  'ready',
  'source_removed',
  'fallback',
  'fallback_done',
  'fallback_failed',
  // redeploy, drain, and their kubernetes counterparts
  'evicted',
  'source_killed',
  'source_terminated',
  'replacement_created',
  'node_cordoned',
  'node_uncordoned',
  'eviction_blocked',
  'source_deleting',
  'source_deleted',
  'pod_created',
  // podmigration
  'requested',
  'operator',
  // kubelet-checkpoint
  'checkpoint_request',
  'checkpoint_done',
  'transfer_done',
  'image_built',
  'image_imported',
  'image_pushed',
  'image_pulled',
  'restore_pod_created',
  'service_switched',
  'endpoint_switched',
  'source_resumed',
  'source_resume_failed',
  // runtime-restore (with kubelet-checkpoint's above)
  'checkpoint_unpacked',
  'restore_waiting',
] as const;

/** What a probe's client noticed (src/probes/). */
export const probeEvents = ['connection_closed', 'stream_break'] as const;

export type EventName =
  | `phase:${TrialPhase}`
  | (typeof trialEvents)[number]
  | (typeof localPlatformEvents)[number]
  | (typeof podWatchEvents)[number]
  | (typeof podBreakdownEvents)[number]
  | (typeof strategyEvents)[number]
  | (typeof probeEvents)[number];
