// Before any kubelet-checkpoint trial: may the kubeconfig's user call the kubelet's checkpoint API
// (RBAC `create` on `nodes/checkpoint`; missing → a preflight problem: exit 2, nothing created), and can these nodes do
// it at all (kubelet ≥ 1.30 with the ContainerCheckpoint gate, containerd 2.0–2.3 — 2.4 removed the
// restore from a checkpoint image —, nodes migbench can reach) — if not, the strategy's trials are
// `unsupported` with the reason, as criu-precopy's are where CRIU cannot track dirty pages.
import { AuthorizationV1Api } from '@kubernetes/client-node';
import type { CheckpointNodes } from '../../platforms/kubernetes/checkpoint-nodes.ts';
import { describeApiError, type Cluster, type NodeInfo } from '../../platforms/kubernetes/cluster.ts';
import type { KubeletApi } from '../../platforms/kubernetes/kubelet-api.ts';
import { AgentClient } from '../../platforms/kubernetes/agent/agent-client.ts';
import { AGENT_NAMESPACE } from '../../platforms/kubernetes/agent/agent-manifests.ts';

/** What kubelet-checkpoint asks of the API server and the kubelet, beyond what every strategy does. */
const CHECKPOINT_PERMISSIONS = [
  { verb: 'create', resource: 'nodes', subresource: 'checkpoint', group: '', why: "kubelet's checkpoint API (POST /checkpoint/… on port 10250)", role: 'migbench-nodes' },
  { verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', why: "the Service's endpoints switching to the restored pod", role: 'migbench' },
  { verb: 'list', resource: 'pods', group: '', namespace: AGENT_NAMESPACE, why: 'finding the node agent on each node', role: 'migbench-agent-user' },
  { verb: 'get', resource: 'pods', subresource: 'proxy', group: '', namespace: AGENT_NAMESPACE, why: "the node agent's steps, through the API server's pod proxy", role: 'migbench-agent-user' },
  { verb: 'create', resource: 'pods', subresource: 'proxy', group: '', namespace: AGENT_NAMESPACE, why: "the node agent's steps, through the API server's pod proxy", role: 'migbench-agent-user' },
  { verb: 'delete', resource: 'pods', subresource: 'proxy', group: '', namespace: AGENT_NAMESPACE, why: "removing a trial's archives and images through the node agent", role: 'migbench-agent-user' },
] as const;

/** Each permission the kubeconfig's user lacks (SelfSubjectAccessReview), as a problem naming the fix. */
export async function checkpointPermissionProblems(cluster: Cluster): Promise<string[]> {
  const authorization = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
  const problems: string[] = [];
  for (const p of CHECKPOINT_PERMISSIONS) {
    const namespace = 'namespace' in p ? p.namespace : cluster.namespace;
    const resourceAttributes = { verb: p.verb, group: p.group, resource: p.resource, ...('subresource' in p ? { subresource: p.subresource } : {}), ...(p.resource === 'nodes' ? {} : { namespace }) };
    let allowed: boolean;
    try {
      const review = await authorization.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } } });
      allowed = review.status?.allowed === true;
    } catch (err) {
      return [`kubernetes.context: ${cluster.context} may not ask the API server what it may do (SelfSubjectAccessReview: ${describeApiError(err)})`];
    }
    const what = `${p.verb} ${p.group ? `${p.group}/` : ''}${p.resource}${'subresource' in p ? `/${p.subresource}` : ''}`;
    if (!allowed) {
      problems.push(
        `strategies: kubelet-checkpoint: ${cluster.context} lacks the permission \`${what}\`${p.resource === 'nodes' ? '' : ` in namespace ${namespace}`}, needed for ${p.why}; apply deploy/kubernetes/clusterrole.yaml and bind its role ${p.role} to the user${'namespace' in p ? ` in namespace ${namespace}` : ''}`,
      );
    }
  }
  return problems;
}

/** The node agent is installed and ready on the nodes the run uses (else: exit 2 before anything is created, naming the fix). */
export async function agentProblems(cluster: Cluster, usedNodes: readonly string[]): Promise<string[]> {
  const problem = await new AgentClient(cluster).problem(usedNodes);
  return problem ? [`strategies: kubelet-checkpoint: ${problem}`] : [];
}

const SUPPORTED_CONTAINERD = 'containerd 2.0 to 2.3 with enable_experimental_restore_via_create = true';

/** Why these nodes cannot run kubelet-checkpoint, or undefined; reads only (the API probe checkpoints nothing). */
export async function checkpointUnsupportedReason(nodes: readonly NodeInfo[], kubelet: KubeletApi, checkpointNodes: CheckpointNodes | undefined, namespace: string): Promise<string | undefined> {
  for (const node of nodes) {
    const kubeletVersion = parseVersion(node.kubeletVersion);
    if (!kubeletVersion || compare(kubeletVersion, [1, 30, 0]) < 0) {
      return `node ${node.name} runs kubelet ${node.kubeletVersion ?? '(unknown)'}: its checkpoint API (feature gate ContainerCheckpoint) is on by default from 1.30 (alpha, off, from 1.25)`;
    }
    const runtime = node.containerRuntimeVersion ?? '(unknown)';
    const [kind, version] = runtime.split('://');
    if (kind !== 'containerd') {
      return `node ${node.name} runs ${runtime}: migbench restores checkpoint images through containerd only (${SUPPORTED_CONTAINERD}); CRI-O restores them too but migbench cannot import images into it`;
    }
    const v = parseVersion(version);
    if (!v || compare(v, [2, 0, 0]) < 0) return `node ${node.name} runs containerd ${version}: checkpointing through the kubelet needs containerd ≥ 2.0 (${SUPPORTED_CONTAINERD})`;
    if (compare(v, [2, 4, 0]) >= 0) return `node ${node.name} runs containerd ${version}: containerd 2.4 removed the restore from a checkpoint image in CreateContainer (${SUPPORTED_CONTAINERD})`;
    if (!node.kubelet) return `node ${node.name} reports no kubelet endpoint (InternalIP and status.daemonEndpoints): migbench cannot call its checkpoint API`;
    const api = await kubelet.checkpointApi(node.kubelet, namespace);
    if (!api.enabled) return api.reason;
  }
  if (!checkpointNodes) return 'no node agent: install it with `migbench agent install`';
  return checkpointNodes.unsupportedReason(nodes.map((n) => n.name));
}

function parseVersion(text: string | undefined): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
