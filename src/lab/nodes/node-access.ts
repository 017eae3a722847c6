// The kubernetes platform's access to the lab's real nodes (platforms/kubernetes/node-access.ts):
// nodes labelled by `migbench cluster` run the workloads' manifests with the images imported into
// their containerd (their claims as on any cluster: the lab's default StorageClass, lab-storage.ts),
// are checked for readiness and images before a run. kubelet-checkpoint's node steps are the node agent's, as on any cluster (the lab
// installs it at start: agent-install.ts).
import type { NodeAccess } from '../../platforms/kubernetes/node-access.ts';
import { REAL_NODE_LABEL } from './layout.ts';
import { realNodeProblem } from './preflight.ts';
import { realNodeManifests } from './real-node-manifests.ts';

export const labNodeAccess: NodeAccess = {
  reaches: (nodes) => nodes.some((n) => n.metadata?.labels?.[REAL_NODE_LABEL] === 'true'),
  problem: realNodeProblem,
  // A trial's volumes are its own claims' (made and deleted with the trial): nothing per trial here.
  adaptManifests: (objects) => realNodeManifests(objects),
};
