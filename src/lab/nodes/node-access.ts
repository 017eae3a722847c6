// The kubernetes platform's access to the lab's real nodes (platforms/kubernetes/node-access.ts):
// nodes labelled by `migbench cluster` run the workloads' manifests with the images imported into
// their containerd and volumes under the shared directory, are checked for readiness and images
// before a run. kubelet-checkpoint's node steps are the node agent's, as on any cluster (the lab
// installs it at start: agent-install.ts).
import { join } from 'node:path';
import type { NodeAccess } from '../../platforms/kubernetes/node-access.ts';
import { REAL_NODE_LABEL, SHARED_VOLUME_DIR } from './layout.ts';
import { realNodeProblem } from './preflight.ts';
import { realNodeManifests } from './real-node-manifests.ts';

export const labNodeAccess: NodeAccess = {
  reaches: (nodes) => nodes.some((n) => n.metadata?.labels?.[REAL_NODE_LABEL] === 'true'),
  problem: realNodeProblem,
  // A volume per trial, as a claim would give: a trial's Redis must not load the AOF of the one before.
  adaptManifests: (objects, runId, trial) => realNodeManifests(objects, join(SHARED_VOLUME_DIR, runId, String(trial))),
};
