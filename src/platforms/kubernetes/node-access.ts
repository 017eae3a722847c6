// What migbench can do on a cluster's nodes beyond the API server and kubelet's API. On a user's
// cluster nothing: the platform works through the API alone. On the lab's real nodes (src/lab/nodes/,
// `migbench cluster`), which run on this host, the manifests run with local images and shared host
// directories and each pair of nodes is checked for what it needs (kubelet-checkpoint's node steps
// are the node agent's everywhere: agent/). The platform knows only this interface; the command that runs it
// hands in the lab's implementation (commands/platform-support.ts).
import type { V1Node } from '@kubernetes/client-node';
import type { K8sObject } from './api.ts';

export interface NodeAccess {
  /** Whether these are nodes migbench reaches this way; otherwise the run uses the API alone. */
  reaches(nodes: readonly V1Node[]): boolean;
  /** Why the run cannot use the `used` nodes for these workloads (not ready, an image missing), or undefined. */
  problem(nodes: readonly V1Node[], used: readonly string[], workloadTypes: readonly string[]): string | undefined;
  /** A workload's manifest as these nodes run it, for one trial (`runId`, `trial`: for what must be its own). */
  adaptManifests(objects: K8sObject[], runId: string, trial: number): K8sObject[];
}

/** A cluster whose nodes migbench cannot reach but through the API. */
export const apiOnly: NodeAccess = {
  reaches: () => false,
  problem: () => undefined,
  adaptManifests: (objects) => objects,
};
