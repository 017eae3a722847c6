// The lab's nodes run the node agent as any cluster does: the same DaemonSet (`migbench agent
// install`), whose image the lab imports into each node's containerd at start (standing in for a
// user's registry), with the node paths the lab's nodes use — each node keeps its kubelet and
// containerd in its own directory on this one host ({node} in the agent's paths).
import { join } from 'node:path';
import type { AgentNodePaths } from '../../platforms/kubernetes/agent/agent-manifests.ts';
import { installAgent, type AgentStatus } from '../../platforms/kubernetes/agent/agent-install.ts';
import type { Cluster } from '../../platforms/kubernetes/cluster.ts';
import { ensureAgentImage } from '../build/agent-image.ts';
import { CLUSTER_DATA_DIR, CLUSTER_RUN_DIR, REAL_NODE_LABEL } from './layout.ts';

/** Where the lab's node `{node}` keeps what the agent needs (layout.ts nodeLayout). */
export const LAB_AGENT_PATHS: AgentNodePaths = {
  kubeletCheckpointDir: join(CLUSTER_DATA_DIR, 'nodes', '{node}', 'kubelet', 'checkpoints'),
  runtimeSocket: join(CLUSTER_RUN_DIR, 'nodes', '{node}', 'containerd.sock'),
  // One directory for both nodes (the CRIU options files pods name must be one path); received
  // archives go to its store/<node>/. Under the cluster's data directory: `cluster stop` removes it.
  stateDir: join(CLUSTER_DATA_DIR, 'agent'),
  // Its containerd.toml imports <runDir>/containerd.d/*.toml (configs.ts): the runtime handler's drop-in goes there.
  containerdConfig: join(CLUSTER_RUN_DIR, 'nodes', '{node}', 'containerd.toml'),
};

/** The lab's real nodes only: its control plane is a simulated node (kwok) where no agent can run. */
export const LAB_AGENT_NODES = { [REAL_NODE_LABEL]: 'true' };

/** Installs the agent on the lab's nodes (its image already imported at their start) and waits until it is ready on each. */
export async function installLabAgent(cluster: Cluster, progress: (line: string) => void): Promise<AgentStatus> {
  const image = await ensureAgentImage(progress);
  return installAgent(cluster, image.name, LAB_AGENT_PATHS, { timeoutMs: 120_000, progress, nodeSelector: LAB_AGENT_NODES });
}
