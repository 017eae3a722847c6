// What each node runs, for run.json: the kubelet and its ContainerCheckpoint gate, the container
// runtime and whether it restores from a checkpoint image (runtime-window.ts), the kernel, the OS,
// the kubelet's cgroup driver and EventedPLEG gate, kube-proxy's mode and minSyncPeriod (its /configz on its
// metrics port, when bound to the node's address). All through the API server: the Node objects' status.nodeInfo, and
// the kubelet's /metrics (kubernetes_feature_enabled: the gate as the kubelet runs it, not only as
// configured) and /configz through the API server's node proxy (RBAC get nodes/proxy: role
// migbench-kubelet-proxy); a proxy call that is refused or does not answer says so. CRIU's version
// and features, the cgroup version and containerd's restore settings as it runs them come from the
// node agent where it is installed (agent/agent-node-facts.ts, merged by withAgentFacts: the agent's
// `checkpointRestore`, the node's actual setting, replaces the version's default).
import type { V1Node } from '@kubernetes/client-node';
import { describeApiError, type Cluster } from './cluster.ts';
import { restoreWindow } from './runtime-window.ts';

/** How long one node-proxy read may take: a node that does not answer must not hold up the run. */
const PROXY_TIMEOUT_MS = 3_000;

export type NodeRuntime = Record<string, string>;

/** kube-proxy's metrics port (its /metrics and /configz; KubeProxyConfiguration metricsBindAddress). */
export const KUBE_PROXY_METRICS_PORT = 10249;

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
  const read = async (path: string, proxied = name): Promise<{ text?: string; error?: string }> => {
    try {
      const text = await Promise.race([
        cluster.core.connectGetNodeProxyWithPath({ name: proxied, path }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${PROXY_TIMEOUT_MS} ms`)), PROXY_TIMEOUT_MS).unref()),
      ]);
      return { text: typeof text === 'string' ? text : JSON.stringify(text) };
    } catch (err) {
      return { error: describeApiError(err) };
    }
  };
  const [metrics, configz, proxyConfigz] = await Promise.all([read('metrics'), read('configz'), read('configz', `${name}:${KUBE_PROXY_METRICS_PORT}`)]);
  out.checkpointGate =
    metrics.text !== undefined
      ? (checkpointGate(metrics.text) ?? 'unknown (the kubelet reports no kubernetes_feature_enabled for ContainerCheckpoint)')
      : `unknown (the kubelet's /metrics through the node proxy: ${metrics.error})`;
  if (configz.text !== undefined) {
    try {
      const kubelet = (JSON.parse(configz.text) as { kubeletconfig?: { cgroupDriver?: string; featureGates?: Record<string, boolean> } }).kubeletconfig;
      if (kubelet?.cgroupDriver) out.cgroupDriver = kubelet.cgroupDriver;
      // The settings the outage breakdown shows on its critical path (docs/methodology.md): recorded as the nodes run them.
      out.eventedPleg = kubelet?.featureGates?.EventedPLEG === true ? 'on' : 'off';
    } catch {
      /* not the kubelet's configz: nothing to record */
    }
  }
  // A node without a kubelet of its own to ask (a simulated one) has no kube-proxy either: nothing to record.
  if (configz.text !== undefined) Object.assign(out, kubeProxySettings(proxyConfigz));
  return out;
}

/** kube-proxy's mode and minSyncPeriod from its /configz (on its metrics port: reachable only when bound to the node's address). */
export function kubeProxySettings(configz: { text?: string; error?: string }): NodeRuntime {
  if (configz.text === undefined)
    return { kubeProxy: `unknown (its /configz on port ${KUBE_PROXY_METRICS_PORT} through the node proxy: ${configz.error ?? 'no answer'})` };
  // kube-proxy serves its internal configuration under its API group's name, without JSON tags
  // (Mode, IPTables.MinSyncPeriod; newer versions also a top-level MinSyncPeriod): keys read case-blind.
  type Json = Record<string, unknown>;
  const get = (o: unknown, key: string): unknown => {
    if (!o || typeof o !== 'object') return undefined;
    const found = Object.keys(o).find((k) => k.toLowerCase() === key.toLowerCase());
    return found === undefined ? undefined : (o as Json)[found];
  };
  let parsed: Json;
  try {
    parsed = JSON.parse(configz.text) as Json;
  } catch {
    return { kubeProxy: "unknown (its /configz is not kube-proxy's JSON)" };
  }
  const c = get(parsed, 'kubeproxy.config.k8s.io') ?? get(parsed, 'KubeProxyConfig') ?? parsed;
  const mode = String(get(c, 'mode') || 'iptables');
  if (get(c, 'mode') === undefined && get(c, 'iptables') === undefined) return { kubeProxy: 'unknown (its /configz has no kube-proxy configuration)' };
  const section = get(c, mode);
  const period = (name: string) => {
    const v = get(section, name) ?? get(c, name);
    return typeof v === 'string' ? v : typeof v === 'number' ? `${v / 1e6}ms` : undefined;
  };
  const minSync = period('minSyncPeriod');
  const sync = period('syncPeriod');
  return { kubeProxyMode: mode, ...(minSync ? { kubeProxyMinSyncPeriod: minSync } : {}), ...(sync ? { kubeProxySyncPeriod: sync } : {}) };
}

/** The API server's facts with the node agent's added (a node the agent does not serve keeps the API's alone). */
export function withAgentFacts(runtimes: Record<string, NodeRuntime>, agent: Record<string, NodeRuntime>): Record<string, NodeRuntime> {
  return Object.fromEntries(Object.entries(runtimes).map(([node, r]) => [node, { ...r, ...(agent[node] ?? {}) }]));
}
