// A strategy on the kubernetes platform moves the workload's pod by asking the cluster (evict,
// delete and create, or a Podmigration for the operator) and watching what the cluster does; it
// starts no process itself. It gets the cluster's API and the trial's pod watch, never the trial.
import type { KubeApi, K8sObject } from '../platforms/kubernetes/api.ts';
import type { NodeInfo } from '../platforms/kubernetes/cluster.ts';
import type { TrialManifests, WorkloadShape } from '../platforms/kubernetes/manifests.ts';
import type { PodWaiter, WatchedPod } from '../platforms/kubernetes/pod-watch.ts';
import type { EventRecorder } from '../timeline.ts';

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
}

export interface KubernetesMigrationOutcome {
  /** The pod serving at the end, on the target node. */
  pod: WatchedPod;
  /** podmigration only: who restored the pod — the real operator or migbench's test double. */
  operator?: 'test-double' | 'real';
}

export interface KubernetesStrategy {
  readonly name: string;
  /** How the workload is deployed for this strategy: a Deployment (drain) or a bare pod (re-deploy, podmigration). */
  readonly shape: WorkloadShape;
  migrate(context: KubernetesMigrationContext): Promise<KubernetesMigrationOutcome>;
}

/** Ready on a node: what "the moved pod serves" means when no app probe can tell. */
export function isServing(pod: WatchedPod): boolean {
  return pod.ready && pod.phase === 'Running' && !pod.terminating && pod.node !== undefined;
}
