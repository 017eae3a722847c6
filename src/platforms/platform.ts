// The small interface every platform implements. Strategies and the trial runner talk to pods and
// services only through it; a platform knows nothing about strategies, probes or results.
import type { CriuStats } from '../model/criu-stats.ts';
import type { Endpoint } from '../model/endpoint.ts';
import type { EventRecorder } from '../model/timeline.ts';

export interface VolumeMount {
  /** Volume name, unique within a run; the same name on another node is the same data (shared store). */
  volume: string;
  /** Where the volume appears inside the pod. */
  mountPath: string;
}

/** What to run: the platform-neutral part of a pod, produced by a workload. */
export interface PodSpec {
  /** Workload instance name; pods are named after it. */
  app: string;
  command: string[];
  env?: Record<string, string>;
  /** The port the app serves inside the pod; the service forwards to it. */
  port: number;
  volumes: VolumeMount[];
  /**
   * The app's own code, read-only — what a container image adds on top of the base system. On the
   * local platform a host directory (e.g. workloads/video) bind-mounted at `mountPath`.
   */
  code?: { hostPath: string; mountPath: string };
}

export interface Pod {
  readonly name: string;
  readonly node: string;
  /** The pod's own address on the pod network. */
  readonly ip: string;
  readonly spec: PodSpec;
}

/** Where a client reaches a service (defined in the data model, so probes need no platform). */
export type { Endpoint };

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

export interface Platform {
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

/** A platform whose pods can be checkpointed and restored with CRIU. */
export interface CheckpointingPlatform extends Platform {
  /**
   * Dumps the pod; the source pod's processes stop serving. For `lazy`, they stay frozen until the
   * restored pod has fetched their memory.
   */
  checkpointPod(pod: Pod, events: EventRecorder, request: CheckpointRequest): Promise<Checkpoint>;
  /** Pre-copy round: copies the memory while the pod runs; later dumps send only what changed since. */
  preDumpPod?(pod: Pod, events: EventRecorder): Promise<{ bytes: number }>;
  /** Why pre-copy cannot work here (e.g. no dirty-memory tracking in the kernel), or undefined if it can. */
  preCopyUnsupportedReason(): Promise<string | undefined>;
  /** Restores a checkpoint as a new pod on the request's target node (new network namespace; new IP unless preserved). */
  restorePod(checkpoint: Checkpoint, events: EventRecorder): Promise<RestoredPod>;
  removeCheckpoint(checkpoint: Checkpoint): Promise<void>;
}

export function canCheckpoint(platform: Platform): platform is CheckpointingPlatform {
  return 'checkpointPod' in platform && 'restorePod' in platform;
}
