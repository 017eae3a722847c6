// Reaching the cluster: the kubeconfig, its context, the namespace, and what the run needs to know
// before it creates anything (the namespace exists, which nodes there are). Every problem found here
// is the user's input or the user's cluster, reported before a single object is created (exit 2).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, type V1Node } from '@kubernetes/client-node';

export interface ClusterOptions {
  /** Kubeconfig file; default $KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string;
  /** Context name; default: the kubeconfig's current-context. */
  context?: string;
  namespace: string;
}

/** A cluster problem found before anything was created: the message names the field and the fix. */
export class ClusterError extends Error {
  constructor(message: string) {
    super(`migbench: ${message}; nothing was created`);
    this.name = 'ClusterError';
  }
}

export interface Cluster {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly objects: KubernetesObjectApi;
  readonly namespace: string;
  /** The API server's URL and the context used, for messages and run.json. */
  readonly server: string;
  readonly context: string;
  readonly kubeconfigFile: string;
}

export interface NodeInfo {
  name: string;
  schedulable: boolean;
  ready: boolean;
  controlPlane: boolean;
  /** The node's InternalIP, when it has one (where a NodePort answers by default). */
  internalIp?: string;
  /** Where the node's kubelet serves its API (InternalIP and status.daemonEndpoints), when it says. */
  kubelet?: KubeletEndpoint;
  labels?: Record<string, string>;
  /** Taints that keep pods off (NoSchedule, NoExecute); a pod needs a toleration of each. */
  taints?: NodeTaint[];
  /** status.nodeInfo: e.g. v1.36.3 and containerd://2.3.7. */
  kubeletVersion?: string;
  containerRuntimeVersion?: string;
  /** status.runtimeHandlers' names (the kubelet reports its CRI's handlers, from 1.30), when it says. */
  runtimeHandlers?: string[];
}

interface NodeTaint {
  key: string;
  value?: string;
  effect: string;
}

/** A pod toleration, as the scenario's kubernetes.tolerations and the API write it. */
interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Where the scenario lets the pods run: the nodes it names, the labels they carry, the taints they may have. */
export interface WantedNodes {
  sourceNode?: string;
  targetNode?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
}

export interface KubeletEndpoint {
  address: string;
  port: number;
  /** The node's name: how the API server's node proxy reaches the same kubelet. */
  node?: string;
}

const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];

export function nodeInfo(node: V1Node): NodeInfo {
  const labels = node.metadata?.labels ?? {};
  const taints = node.spec?.taints ?? [];
  const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const keepOff = taints
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect }));
  return {
    name: node.metadata!.name!,
    schedulable: node.spec?.unschedulable !== true,
    ready: (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    // A node is a control-plane node by its role label or by the taint kubeadm puts on it.
    controlPlane: CONTROL_PLANE_LABELS.some((l) => l in labels) || taints.some((t) => CONTROL_PLANE_LABELS.includes(t.key)),
    ...(Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
    ...(keepOff.length > 0 ? { taints: keepOff } : {}),
    ...(address ? { internalIp: address } : {}),
    ...(address && port ? { kubelet: { address, port, node: node.metadata!.name! } } : {}),
    ...(node.status?.nodeInfo?.kubeletVersion ? { kubeletVersion: node.status.nodeInfo.kubeletVersion } : {}),
    ...(node.status?.nodeInfo?.containerRuntimeVersion ? { containerRuntimeVersion: node.status.nodeInfo.containerRuntimeVersion } : {}),
    ...(node.status?.runtimeHandlers ? { runtimeHandlers: node.status.runtimeHandlers.map((h) => h.name ?? '') } : {}),
  };
}

export function connectCluster(options: ClusterOptions): Cluster {
  const file = (options.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0] ?? `${homedir()}/.kube/config`).replace(/^~(?=\/)/, homedir());
  const field = options.kubeconfig ? 'kubernetes.kubeconfig' : process.env.KUBECONFIG ? '$KUBECONFIG' : 'kubernetes.kubeconfig (default ~/.kube/config)';
  if (!existsSync(file)) throw new ClusterError(`${field}: no kubeconfig at ${file}; set kubernetes.kubeconfig (or --kubeconfig) to your cluster's kubeconfig`);
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(file);
  } catch (err) {
    throw new ClusterError(`${field}: ${file} is not a usable kubeconfig (${(err as Error).message})`);
  }
  if (options.context !== undefined) {
    if (!kubeConfig.getContextObject(options.context)) {
      throw new ClusterError(
        `kubernetes.context: no context ${JSON.stringify(options.context)} in ${file} (it has: ${
          kubeConfig
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    kubeConfig.setCurrentContext(options.context);
  }
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new ClusterError(`kubernetes.context: the context ${JSON.stringify(kubeConfig.getCurrentContext())} in ${file} names no cluster`);
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
    namespace: options.namespace,
    server,
    context: kubeConfig.getCurrentContext(),
    kubeconfigFile: file,
  };
}

/** The HTTP status of a failed API call (undefined for a network failure). */
export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const status = (err as { status?: unknown })?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A failed API call in one line: status and the API server's own message. */
export function describeApiError(err: unknown): string {
  if (err instanceof Error && err.name === 'KubeApiError') return err.message;
  if (err instanceof ApiException) {
    let message = '';
    try {
      const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      message = (body as { message?: string })?.message ?? '';
    } catch {
      message = String(err.body).trim().slice(0, 300);
    }
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

/**
 * Checks, reading only, that the run can start: the API server answers, the namespace exists,
 * the nodes are listed. Returns the nodes.
 */
export async function preflight(cluster: Cluster): Promise<NodeInfo[]> {
  try {
    await cluster.core.readNamespace({ name: cluster.namespace });
  } catch (err) {
    const status = apiStatus(err);
    if (status === 404)
      throw new ClusterError(
        `kubernetes.namespace: namespace ${JSON.stringify(cluster.namespace)} does not exist on ${cluster.server}; create it (kubectl create namespace ${cluster.namespace}) or name another`,
      );
    if (status === 401 || status === 403)
      throw new ClusterError(
        `kubernetes.context: ${cluster.context} may not read namespace ${cluster.namespace} (${describeApiError(err)}); bind deploy/kubernetes/clusterrole.yaml to it`,
      );
    throw new ClusterError(
      `kubernetes.kubeconfig: the API server ${cluster.server} (context ${cluster.context}) did not answer (${describeApiError(err)}); check the kubeconfig and that the cluster is up`,
    );
  }
  try {
    const nodes = await cluster.core.listNode();
    return nodes.items.map(nodeInfo);
  } catch (err) {
    throw new ClusterError(
      `kubernetes.context: ${cluster.context} may not list nodes (${describeApiError(err)}); bind deploy/kubernetes/clusterrole.yaml to it`,
    );
  }
}

/** Whether a pod with `tolerations` may run on a node with this taint (Kubernetes' matching rules). */
function tolerates(tolerations: readonly Toleration[], taint: NodeTaint): boolean {
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === taint.effect) &&
      (t.operator === 'Exists' ? t.key === undefined || t.key === taint.key : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
  );
}

/** Why the scenario's pods cannot run on `node` (its nodeSelector's labels, an untolerated taint), or undefined. */
function placementProblem(node: NodeInfo, wanted: WantedNodes): string | undefined {
  const missing = Object.entries(wanted.nodeSelector ?? {})
    .filter(([k, v]) => node.labels?.[k] !== v)
    .map(([k, v]) => `${k}=${v}`);
  if (missing.length > 0) return `does not carry kubernetes.nodeSelector's ${missing.join(', ')}`;
  // The node controller's own taints (node.kubernetes.io/not-ready, unreachable, unschedulable, …)
  // state the node's condition, which is judged on its own (readiness, cordon) with a clearer message.
  const untolerated = (node.taints ?? []).filter((t) => !t.key.startsWith('node.kubernetes.io/') && !tolerates(wanted.tolerations ?? [], t));
  if (untolerated.length > 0)
    return `has the taint ${untolerated.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(', ')}, which kubernetes.tolerations does not tolerate`;
  return undefined;
}

/**
 * Picks the source and target nodes: the scenario's, else the first schedulable, ready workers its
 * pods may run on (kubernetes.nodeSelector, kubernetes.tolerations) — any pair, not only the first two.
 */
export function chooseNodes(nodes: NodeInfo[], wanted: WantedNodes): { source: string; target: string } {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const [field, name] of [
    ['kubernetes.sourceNode', wanted.sourceNode],
    ['kubernetes.targetNode', wanted.targetNode],
  ] as const) {
    if (name === undefined) continue;
    const node = byName.get(name);
    if (!node) throw new ClusterError(`${field}: no node ${JSON.stringify(name)} in the cluster (nodes: ${nodes.map((n) => n.name).join(', ')})`);
    if (!node.ready) throw new ClusterError(`${field}: node ${name} is NotReady (its kubelet does not report Ready); fix the node or name another`);
    const problem = placementProblem(node, wanted);
    // A control-plane node's own taint is drain's to judge (forceControlPlane), not this check's.
    if (problem && !(node.controlPlane && (node.taints ?? []).every((t) => CONTROL_PLANE_LABELS.includes(t.key)))) {
      throw new ClusterError(`${field}: node ${name} ${problem}; name another node or change the pods' placement`);
    }
  }
  const workers = nodes.filter((n) => n.schedulable && n.ready && !n.controlPlane && placementProblem(n, wanted) === undefined);
  const where = wanted.nodeSelector || wanted.tolerations ? ' its pods may run on (kubernetes.nodeSelector, kubernetes.tolerations)' : '';
  const source = wanted.sourceNode ?? workers.find((n) => n.name !== wanted.targetNode)?.name;
  if (source === undefined)
    throw new ClusterError(
      `kubernetes.sourceNode: the cluster has no schedulable, ready worker node${where} to start the pod on (nodes: ${describeNodes(nodes)}); name one`,
    );
  const target = wanted.targetNode ?? workers.find((n) => n.name !== source)?.name;
  if (target === undefined)
    throw new ClusterError(
      `kubernetes.targetNode: the cluster has no second schedulable, ready worker${where} to move the pod to (nodes: ${describeNodes(nodes)}); name one`,
    );
  if (!byName.get(target)!.schedulable)
    throw new ClusterError(`kubernetes.targetNode: node ${target} is cordoned (unschedulable); uncordon it or name another`);
  return { source, target };
}

/**
 * An evacuation's targets on this cluster: the named ones (`evacuate.targets`), each checked — a
 * node here, ready, schedulable, one the pods may run on, not the source — or else every
 * schedulable, ready worker other than the source (where the scheduler may put a drain's
 * replacements). Each problem as `evacuate.targets[i]: …`.
 */
export function evacuationTargets(
  nodes: NodeInfo[],
  wanted: WantedNodes,
  source: string,
  named: readonly string[] | undefined,
): { targets: string[]; problems: string[] } {
  if (named === undefined) {
    const targets = nodes
      .filter((n) => n.schedulable && n.ready && !n.controlPlane && n.name !== source && placementProblem(n, wanted) === undefined)
      .map((n) => n.name);
    return {
      targets,
      problems:
        targets.length === 0
          ? [
              new ClusterError(
                `evacuate.targets: the cluster has no schedulable, ready worker other than ${source} to move the pods to (nodes: ${describeNodes(nodes)})`,
              ).message,
            ]
          : [],
    };
  }
  const problems: string[] = [];
  named.forEach((name, i) => {
    const node = nodes.find((n) => n.name === name);
    const field = `evacuate.targets[${i}]`;
    let problem: string | undefined;
    if (!node) problem = `no node ${JSON.stringify(name)} in the cluster (nodes: ${nodes.map((n) => n.name).join(', ')})`;
    else if (name === source) problem = `${name} is the node the evacuation empties (kubernetes.sourceNode); name another`;
    else if (!node.ready) problem = `node ${name} is NotReady; fix the node or name another`;
    else if (!node.schedulable) problem = `node ${name} is cordoned (unschedulable); uncordon it or name another`;
    else {
      const placement = placementProblem(node, wanted);
      if (placement) problem = `node ${name} ${placement}; name another node or change the pods' placement`;
    }
    if (problem) problems.push(new ClusterError(`${field}: ${problem}`).message);
  });
  return { targets: [...named], problems };
}

function describeNodes(nodes: NodeInfo[]): string {
  return (
    nodes.map((n) => `${n.name}${n.controlPlane ? ' (control plane)' : ''}${n.schedulable ? '' : ' (cordoned)'}${n.ready ? '' : ' (not ready)'}`).join(', ') ||
    'none'
  );
}
