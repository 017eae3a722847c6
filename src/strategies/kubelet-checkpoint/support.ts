// Before any kubelet-checkpoint trial: may the kubeconfig's user call the kubelet's checkpoint API
// (RBAC `create` on `nodes/checkpoint`; missing → a preflight problem: exit 2, nothing created), and can these nodes do
// it at all (kubelet ≥ 1.30 with the ContainerCheckpoint gate, a runtime that restores from a
// checkpoint image — containerd 2.1–2.3, platforms/kubernetes/runtime-window.ts —, with that restore
// on and org.criu.config passed to runc, as the node agent reads containerd's settings —, nodes
// migbench can reach) — if not, the strategy's trials are `unsupported` with the reason, as
// criu-precopy's are where CRIU cannot track dirty pages.
import { AuthorizationV1Api } from '@kubernetes/client-node';
import type { CheckpointNodes } from '../../platforms/kubernetes/checkpoint-nodes.ts';
import { describeApiError, nodeInfo, type Cluster, type NodeInfo } from '../../platforms/kubernetes/cluster.ts';
import { kubeletRoute, type KubeletAccess, type KubeletApi, type KubeletRoute } from '../../platforms/kubernetes/kubelet-api.ts';
import { AgentClient } from '../../platforms/kubernetes/agent/agent-client.ts';
import { AGENT_NAMESPACE, AGENT_TOKEN_SECRET } from '../../platforms/kubernetes/agent/agent-manifests.ts';
import { compareVersions, parseVersion, restoreSettingsProblem, restoreWindow } from '../../platforms/kubernetes/runtime-window.ts';

/** What kubelet-checkpoint asks of the API server and the kubelet, beyond what every strategy does. */
const CHECKPOINT_PERMISSIONS = [
  {
    verb: 'create',
    resource: 'nodes',
    subresource: 'checkpoint',
    group: '',
    why: "kubelet's checkpoint API (POST /checkpoint/… on port 10250)",
    role: 'migbench-nodes',
    route: 'direct',
  },
  {
    verb: 'create',
    resource: 'nodes',
    subresource: 'proxy',
    group: '',
    why: "the kubelet's checkpoint API through the API server's node proxy (kubeletAccess apiServer, or a kubelet migbench cannot reach)",
    role: 'migbench-kubelet-proxy',
    route: 'apiServer',
  },
  { verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', why: "the Service's endpoints switching to the restored pod", role: 'migbench' },
  { verb: 'list', resource: 'pods', group: '', namespace: AGENT_NAMESPACE, why: 'finding the node agent on each node', role: 'migbench-agent-user' },
  {
    verb: 'get',
    resource: 'pods',
    subresource: 'proxy',
    group: '',
    namespace: AGENT_NAMESPACE,
    why: "the node agent's steps, through the API server's pod proxy",
    role: 'migbench-agent-user',
  },
  {
    verb: 'create',
    resource: 'pods',
    subresource: 'proxy',
    group: '',
    namespace: AGENT_NAMESPACE,
    why: "the node agent's steps, through the API server's pod proxy",
    role: 'migbench-agent-user',
  },
  {
    verb: 'get',
    resource: 'secrets',
    name: AGENT_TOKEN_SECRET,
    group: '',
    namespace: AGENT_NAMESPACE,
    why: "the node agent's token, which every request to it carries",
    role: 'migbench-agent-user',
  },
  {
    verb: 'delete',
    resource: 'pods',
    subresource: 'proxy',
    group: '',
    namespace: AGENT_NAMESPACE,
    why: "removing a trial's archives and images through the node agent",
    role: 'migbench-agent-user',
  },
] as const;

/** Each permission the kubeconfig's user lacks (SelfSubjectAccessReview) for the kubelet routes the run takes, as a problem naming the fix. */
export async function checkpointPermissionProblems(cluster: Cluster, routes: ReadonlySet<KubeletRoute> = new Set(['direct'])): Promise<string[]> {
  const authorization = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
  const problems: string[] = [];
  for (const p of CHECKPOINT_PERMISSIONS) {
    if ('route' in p && !routes.has(p.route)) continue;
    const namespace = 'namespace' in p ? p.namespace : cluster.namespace;
    const resourceAttributes = {
      verb: p.verb,
      group: p.group,
      resource: p.resource,
      ...('subresource' in p ? { subresource: p.subresource } : {}),
      ...('name' in p ? { name: p.name } : {}),
      ...(p.resource === 'nodes' ? {} : { namespace }),
    };
    let allowed: boolean;
    try {
      const review = await authorization.createSelfSubjectAccessReview({
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } },
      });
      allowed = review.status?.allowed === true;
    } catch (err) {
      return [`kubernetes.context: ${cluster.context} may not ask the API server what it may do (SelfSubjectAccessReview: ${describeApiError(err)})`];
    }
    const what = `${p.verb} ${p.group ? `${p.group}/` : ''}${p.resource}${'subresource' in p ? `/${p.subresource}` : ''}${'name' in p ? ` ${p.name}` : ''}`;
    if (!allowed) {
      problems.push(
        `strategies: kubelet-checkpoint: ${cluster.context} lacks the permission \`${what}\`${p.resource === 'nodes' ? '' : ` in namespace ${namespace}`}, needed for ${p.why}; apply deploy/kubernetes/clusterrole.yaml and bind its role ${p.role} to the user${'namespace' in p ? ` in namespace ${namespace}` : ''}`,
      );
    }
  }
  return problems;
}

/** The routes the used nodes' kubelets get for `access` (auto: a connect to each kubelet's port, once per node). */
export async function kubeletRoutes(nodes: readonly NodeInfo[], access: KubeletAccess): Promise<Set<KubeletRoute>> {
  const routes = new Set<KubeletRoute>();
  for (const node of nodes) if (node.kubelet) routes.add(await kubeletRoute(node.kubelet, access));
  return routes;
}

/** The node agent is installed and ready on the nodes the run uses (else: exit 2 before anything is created, naming the fix). */
export async function agentProblems(cluster: Cluster, usedNodes: readonly string[]): Promise<string[]> {
  const problem = await new AgentClient(cluster).problem(usedNodes);
  return problem ? [`strategies: kubelet-checkpoint: ${problem}`] : [];
}

/**
 * Why a node cannot take a checkpoint strategy's call, or undefined: its kubelet too old for the
 * checkpoint API, its runtime (`runtimeProblem`: the strategy's own judgement of
 * status.nodeInfo), no kubelet endpoint, or the API off or out of reach by `access`. Reads only.
 */
export async function checkpointNodeProblem(
  node: NodeInfo,
  runtimeProblem: string | undefined,
  kubelet: KubeletApi,
  namespace: string,
  access: KubeletAccess,
): Promise<string | undefined> {
  const kubeletVersion = parseVersion(node.kubeletVersion);
  if (!kubeletVersion || compareVersions(kubeletVersion, [1, 30, 0]) < 0)
    return `node ${node.name} runs kubelet ${node.kubeletVersion ?? '(unknown)'}: its checkpoint API (feature gate ContainerCheckpoint) is on by default from 1.30 (alpha, off, from 1.25)`;
  if (runtimeProblem) return `node ${node.name} ${runtimeProblem}`;
  if (!node.kubelet) return `node ${node.name} reports no kubelet endpoint (InternalIP and status.daemonEndpoints): migbench cannot call its checkpoint API`;
  const api = await kubelet.checkpointApi(node.kubelet, namespace, undefined, await kubeletRoute(node.kubelet, access));
  return api.enabled ? undefined : api.reason;
}

/**
 * A checkpoint strategy's preflight (kubelet-checkpoint, runtime-restore): the kubeconfig's user may
 * call the kubelet's checkpoint API by the route each used node's kubelet gets, list the Service's
 * endpoints and reach the node agent, which runs on both nodes.
 */
export async function checkpointPreflightProblems(cluster: Cluster, usedNodes: readonly string[], access: KubeletAccess): Promise<string[]> {
  // The kubelet routes these nodes get decide which permission the checkpoint call needs.
  const nodes = (await cluster.core.listNode()).items.map(nodeInfo).filter((n) => usedNodes.includes(n.name));
  const permissions = await checkpointPermissionProblems(cluster, await kubeletRoutes(nodes, access));
  // The agent's pods can be listed only with the permission; without it the permission problem says all.
  return permissions.length > 0 ? permissions : agentProblems(cluster, usedNodes);
}

/** Why these nodes cannot run kubelet-checkpoint, or undefined; reads only (the API probe checkpoints nothing). */
export async function checkpointUnsupportedReason(
  nodes: readonly NodeInfo[],
  kubelet: KubeletApi,
  checkpointNodes: CheckpointNodes | undefined,
  namespace: string,
  access: KubeletAccess = 'direct',
): Promise<string | undefined> {
  for (const node of nodes) {
    const problem = await checkpointNodeProblem(node, restoreWindow(node.containerRuntimeVersion).unsupported, kubelet, namespace, access);
    if (problem) return problem;
  }
  if (!checkpointNodes) return 'no node agent: install it with `migbench agent install`';
  const agentProblem = await checkpointNodes.unsupportedReason(nodes.map((n) => n.name));
  if (agentProblem) return agentProblem;
  // What the version leaves open (the restore off by default from 2.2.7/2.3.4, org.criu.config passed
  // only where configured), as each node's containerd runs it: a node that would fail the restore,
  // after the source was checkpointed, is refused here instead.
  const settings = await Promise.all(nodes.map((n) => checkpointNodes.restoreSettings(n.name)));
  for (const [i, node] of nodes.entries()) {
    const problem = settings[i] && restoreSettingsProblem(node.name, node.containerRuntimeVersion, settings[i]);
    if (problem) return problem;
  }
  return undefined;
}
