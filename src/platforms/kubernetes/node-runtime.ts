// What each node runs, for run.json: the kubelet and its ContainerCheckpoint gate, the container
// runtime and whether it restores from a checkpoint image (runtime-window.ts), the kernel, the OS,
// the kubelet's cgroup driver. All through the API server: the Node objects' status.nodeInfo, and
// the kubelet's /metrics (kubernetes_feature_enabled: the gate as the kubelet runs it, not only as
// configured) and /configz through the API server's node proxy (RBAC get nodes/proxy: role
// migbench-kubelet-proxy); a proxy call that is refused or does not answer says so. CRIU's version
// and features and the cgroup version come from the node agent where it is installed
// (agent/agent-node-facts.ts, merged by withAgentFacts); containerd's restore setting itself is not read.
import type { V1Node } from '@kubernetes/client-node';
import { describeApiError, type Cluster } from './cluster.ts';
import { restoreWindow } from './runtime-window.ts';

/** How long one node-proxy read may take: a node that does not answer must not hold up the run. */
const PROXY_TIMEOUT_MS = 3_000;

export type NodeRuntime = Record<string, string>;

/** The ContainerCheckpoint gate from the kubelet's metrics text: 'on', 'off', or undefined when it does not say. */
export function checkpointGate(metrics: string): 'on' | 'off' | undefined {
  const m = /^kubernetes_feature_enabled\{[^}]*name="ContainerCheckpoint"[^}]*\}\s+(\d+)/m.exec(metrics);
  return m ? (m[1] === '1' ? 'on' : 'off') : undefined;
}

export async function nodeRuntimes(cluster: Cluster, nodes: readonly V1Node[]): Promise<Record<string, NodeRuntime>> {
  const entries = await Promise.all(nodes.map(async (node) => [node.metadata!.name!, await nodeRuntime(cluster, node)] as const));
  return Object.fromEntries(entries);
}

async function nodeRuntime(cluster: Cluster, node: V1Node): Promise<NodeRuntime> {
  const name = node.metadata!.name!;
  const info = node.status?.nodeInfo;
  const window = restoreWindow(info?.containerRuntimeVersion);
  const out: NodeRuntime = {
    ...(info?.kubeletVersion ? { kubelet: info.kubeletVersion } : {}),
    ...(info?.containerRuntimeVersion ? { containerRuntime: info.containerRuntimeVersion } : {}),
    checkpointRestore: window.restore ?? `unsupported: ${window.unsupported}`,
    ...(info?.kernelVersion ? { kernel: info.kernelVersion } : {}),
    ...(info?.osImage ? { os: info.osImage } : {}),
    ...(info?.architecture ? { architecture: info.architecture } : {}),
  };
  const read = async (path: string): Promise<{ text?: string; error?: string }> => {
    try {
      const text = await Promise.race([
        cluster.core.connectGetNodeProxyWithPath({ name, path }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${PROXY_TIMEOUT_MS} ms`)), PROXY_TIMEOUT_MS).unref()),
      ]);
      return { text: typeof text === 'string' ? text : JSON.stringify(text) };
    } catch (err) {
      return { error: describeApiError(err) };
    }
  };
  const [metrics, configz] = await Promise.all([read('metrics'), read('configz')]);
  out.checkpointGate =
    metrics.text !== undefined
      ? (checkpointGate(metrics.text) ?? 'unknown (the kubelet reports no kubernetes_feature_enabled for ContainerCheckpoint)')
      : `unknown (the kubelet's /metrics through the node proxy: ${metrics.error})`;
  if (configz.text !== undefined) {
    try {
      const driver = (JSON.parse(configz.text) as { kubeletconfig?: { cgroupDriver?: string } }).kubeletconfig?.cgroupDriver;
      if (driver) out.cgroupDriver = driver;
    } catch {
      /* not the kubelet's configz: nothing to record */
    }
  }
  return out;
}

/** The API server's facts with the node agent's added (a node the agent does not serve keeps the API's alone). */
export function withAgentFacts(runtimes: Record<string, NodeRuntime>, agent: Record<string, NodeRuntime>): Record<string, NodeRuntime> {
  return Object.fromEntries(Object.entries(runtimes).map(([node, r]) => [node, { ...r, ...(agent[node] ?? {}) }]));
}
