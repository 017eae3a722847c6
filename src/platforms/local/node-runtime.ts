// The local platform's node and pod runtime as the local strategies see it: volumes, pods on nodes,
// a service address, cordons, and (CheckpointingRuntime) CRIU's checkpoint and restore of a pod.
// LocalPlatform (local-platform.ts) implements it on this host; the strategies move pods only
// through it and know nothing of runc, network namespaces or iptables.
import type { CriuStats } from '../../model/criu-stats.ts';
import type { Endpoint } from '../../model/endpoint.ts';
import type { EventRecorder } from '../../model/timeline.ts';
import type { PodSpec } from '../../model/pod-spec.ts';

export interface Pod {
  readonly name: string;
  readonly node: string;
  /** The pod's own address on the pod network. */
  readonly ip: string;
  readonly spec: PodSpec;
}

/** A stable address that the platform routes to whichever pod is the current endpoint. */
export interface Service {
  readonly name: string;
  readonly address: Endpoint;
  readonly targetPort: number;
}

export interface StopResult {
  /** True when the grace period ran out and the pod had to be killed with SIGKILL. */
  killed: boolean;
  /** From SIGTERM to the pod's process being gone. */
  stopMs: number;
}

export interface LocalNodeRuntime {
  readonly name: string;
  readonly nodes: readonly string[];
  /** Creates an empty volume (or empties an existing one). */
  createVolume(volume: string): Promise<void>;
  removeVolume(volume: string): Promise<void>;
  startPod(spec: PodSpec, node: string, events: EventRecorder): Promise<Pod>;
  /**
   * SIGTERM, then SIGKILL once the grace period has passed, as the kubelet does. An abort (Ctrl-C)
   * ends the wait for the grace period at once and rejects with the signal's reason; the pod is then
   * left terminating, for the caller's teardown (removePod) to kill and remove.
   */
  stopPod(pod: Pod, gracePeriodMs: number, events: EventRecorder, signal?: AbortSignal): Promise<StopResult>;
  /** Removes the pod and everything it used (idempotent; also for a pod that failed half-way). */
  removePod(pod: Pod): Promise<void>;
  createService(name: string, targetPort: number): Promise<Service>;
  /** Points the service at a pod, or at nothing (connections are then refused, as with no endpoints). */
  setServiceEndpoint(service: Service, pod: Pod | null, events: EventRecorder): Promise<void>;
  removeService(service: Service): Promise<void>;
  /** Marks a node unschedulable (kubectl cordon); starting a pod there then fails. */
  cordon(node: string, events: EventRecorder): void | Promise<void>;
  /** Makes a node schedulable again; a no-op for a node that is not cordoned. */
  uncordon(node: string, events: EventRecorder): void | Promise<void>;
  isSchedulable(node: string): boolean;
  /** Removes everything this platform instance created that is still there. */
  close(): Promise<void>;
}

/**
 * How a checkpoint's memory reaches the target node.
 * - shared-store: CRIU writes all images to the shared store (the original setup's NFS share),
 *   the target reads them from there (stop-and-copy).
 * - page-server: the memory pages stream over the node network to a CRIU page server on the target,
 *   which writes them to the target's own disk; only the small non-memory images go through the store.
 * - lazy: post-copy. Only the non-memory state is dumped; the target resumes the process at once and
 *   its page faults are served from the frozen source over the network.
 */
export type MemoryTransfer = 'shared-store' | 'page-server' | 'lazy';

export interface CheckpointRequest {
  transfer: MemoryTransfer;
  /** The node the checkpoint will be restored on (where a page server or lazy-pages daemon runs). */
  targetNode: string;
  /**
   * The restored pod keeps the source pod's IP (and MAC), and CRIU dumps established TCP connections
   * (`--tcp-established`) so that clients keep their connections through the move.
   */
  preserveIp: boolean;
  /** Who freezes the pod before the dump: CRIU (default) or the platform itself (see src/platforms/local/freezer.ts). */
  freezer?: 'criu' | 'harness' | 'action-script';
  /** Make the target pod before the dump (while the source serves) rather than after it. */
  targetPod?: 'after-dump' | 'before-dump';
  /** Raise fs.pipe-max-size to what CRIU asks for during this dump (large) or leave it (sysctl). */
  pagePipes?: 'sysctl' | 'large';
  /** Who runs CRIU: runc (checkpoint/restore) or the platform itself (local only; default: the platform's). */
  runtime?: 'runc' | 'criu';
}

export interface Checkpoint {
  /** Directory holding CRIU's images the restore reads. */
  readonly imagesDir: string;
  readonly fromPod: Pod;
  readonly request: CheckpointRequest;
  /** Bytes of images written before the restore could start (for lazy: without the memory pages). */
  readonly bytes: number;
  /** CRIU's dump figures (stats-dump), and the platform's own freeze before CRIU's (freezer: action-script). */
  readonly stats: CriuStats;
}

export interface RestoredPod {
  pod: Pod;
  /** CRIU's restore figures (stats-restore). */
  stats: CriuStats;
  /**
   * Post-copy only: settles once every memory page has reached the target and the source's
   * processes are gone; rejects if the transfer failed (the restored process is then lost too).
   */
  memoryComplete?: Promise<void>;
}

export interface RestoreHooks {
  /** Called synchronously with the target pod (its address known) just before CRIU restores into it. */
  beforeRestore?: (target: Pod) => void;
}

/** A runtime whose pods can be checkpointed and restored with CRIU. */
export interface CheckpointingRuntime extends LocalNodeRuntime {
  /**
   * Dumps the pod; the source pod's processes stop serving. For `lazy`, they stay frozen until the
   * restored pod has fetched their memory.
   */
  checkpointPod(pod: Pod, events: EventRecorder, request: CheckpointRequest): Promise<Checkpoint>;
  /** Pre-copy round: copies the memory while the pod runs; later dumps send only what changed since. */
  preDumpPod?(pod: Pod, events: EventRecorder): Promise<{ bytes: number }>;
  /** Why pre-copy cannot work here (e.g. no dirty-memory tracking in the kernel), or undefined if it can. */
  preCopyUnsupportedReason(): Promise<string | undefined>;
  /**
   * Restores a checkpoint as a new pod on the request's target node (new network namespace; new IP
   * unless preserved). `beforeRestore` is told the target pod the moment it exists and CRIU is about
   * to start on it (the service switched while CRIU restores: a criu strategy's `serviceSwitch`).
   */
  restorePod(checkpoint: Checkpoint, events: EventRecorder, hooks?: RestoreHooks): Promise<RestoredPod>;
  removeCheckpoint(checkpoint: Checkpoint): Promise<void>;
}

export function canCheckpoint(platform: LocalNodeRuntime): platform is CheckpointingRuntime {
  return 'checkpointPod' in platform && 'restorePod' in platform;
}
