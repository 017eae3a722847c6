// A strategy on the kubernetes platform moves the workload's pod by asking the cluster (evict,
// delete and create, a Podmigration for the operator, kubelet's checkpoint API) and watching what
// the cluster does; it starts no process itself. It gets the cluster's API and the trial's pod watch, never the trial.
import type { KubeApi, K8sObject } from '../../platforms/kubernetes/api.ts';
import type { CheckpointNodes } from '../../platforms/kubernetes/checkpoint-nodes.ts';
import type { KubeletApi } from '../../platforms/kubernetes/kubelet-api.ts';
import type { CriuStats } from '../../model/criu-stats.ts';
import type { Cluster, NodeInfo } from '../../platforms/kubernetes/cluster.ts';
import type { TrialManifests, WorkloadShape } from '../../platforms/kubernetes/manifests.ts';
import type { PodWaiter, WatchedPod } from '../../platforms/kubernetes/pod-watch.ts';
import type { EventRecorder } from '../../model/timeline.ts';

export interface KubernetesMigrationContext {
  api: KubeApi;
  pods: PodWaiter;
  runId: string;
  /** The trial's objects as applied: the pod template a re-created pod is made from. */
  manifests: TrialManifests;
  /** The pod serving now. */
  sourcePod: WatchedPod;
  sourceNode: NodeInfo;
  targetNode: string;
  events: EventRecorder;
  readyTimeoutMs: number;
  signal: AbortSignal;
  /** The scenario allows draining a control-plane node. */
  forceControlPlane: boolean;
  /** Reports an object the strategy created, so the trial's teardown deletes it. */
  created(object: K8sObject): void;
  /** Runs at the trial's teardown once its pods are gone: what the strategy left outside the API (files, images on nodes). */
  onTeardown(what: string, remove: () => Promise<string[]>): void;
  /** The trial's key among the run's (for names of the trial's own files and images). */
  trialKey: string;
  /** kubelet's own API on the nodes (kubelet-checkpoint's checkpoint call). */
  kubelet?: KubeletApi;
  /** The steps kubelet-checkpoint takes on the nodes themselves; undefined where migbench cannot reach them. */
  checkpointNodes?: CheckpointNodes;
}

export interface KubernetesMigrationOutcome {
  /** The pod serving at the end, on the target node. */
  pod: WatchedPod;
  /** podmigration only: who restored the pod — the real operator or migbench's test double. */
  operator?: 'test-double' | 'real';
  /** kubelet-checkpoint: CRIU's statistics from the checkpoint archive, and the archive's size. */
  criu?: CriuStats;
  checkpointBytes?: number;
}

/** What a strategy's checks before any trial may read of the cluster (read only: they create nothing). */
export interface KubernetesPreflightContext {
  cluster: Cluster;
  /** The node the workload's pod starts on. */
  sourceNode: NodeInfo;
  /** The source and target nodes' names. */
  usedNodes: readonly string[];
  /** The scenario allows draining a control-plane node. */
  forceControlPlane: boolean;
}

/** What a strategy may ask once, before its first trial, to tell whether these nodes can run it at all. */
export interface KubernetesSupportContext {
  /** The source and target nodes as the cluster reports them now. */
  usedNodes(): Promise<NodeInfo[]>;
  kubelet: KubeletApi;
  checkpointNodes?: CheckpointNodes;
  namespace: string;
  /** The cluster, to read (never change) what the strategy needs installed (runtime-restore: its RuntimeClass). */
  cluster?: Cluster;
}

export interface KubernetesStrategy {
  readonly name: string;
  /** How the workload is deployed for this strategy: a Deployment (drain) or a bare pod (re-deploy, podmigration). */
  readonly shape: WorkloadShape;
  /**
   * Every problem of this cluster or scenario that would fail each of the strategy's trials the same
   * way (e.g. a resource type the cluster does not serve, a permission the user lacks), as
   * `<field>: <what is wrong and the fix>`; empty when there is none. Asked before anything is created;
   * any problem ends the run with exit 2.
   */
  preflight?(context: KubernetesPreflightContext): Promise<string[]>;
  /**
   * Why these nodes cannot run this strategy (asked once, before any trial), or undefined if they
   * can. Its trials are then recorded as `unsupported` with the reason, not run.
   */
  unsupportedReason?(context: KubernetesSupportContext): Promise<string | undefined>;
  /** Annotations the workload's pod needs from the start for this strategy (kubelet-checkpoint: the runtime's CRIU options). */
  podAnnotations?(context: { checkpointNodes?: CheckpointNodes; trialKey: string }): Record<string, string>;
  migrate(context: KubernetesMigrationContext): Promise<KubernetesMigrationOutcome>;
}

/** Ready on a node: what "the moved pod serves" means when no app probe can tell. */
export function isServing(pod: WatchedPod): boolean {
  return pod.ready && pod.phase === 'Running' && !pod.terminating && pod.node !== undefined;
}
