// `migbench agent install|uninstall|status` on any cluster: the agent's namespace and DaemonSet
// (agent-manifests.ts) applied server-side and waited for until a pod is ready on every node it is
// scheduled to, deleted with its namespace and waited for until gone, or listed per node. Installing
// needs a cluster administrator's rights (a namespace, privileged pods); using it only the role
// migbench-agent-user (deploy/kubernetes/clusterrole.yaml).
import { createHash, randomBytes } from 'node:crypto';
import type { Cluster } from '../cluster.ts';
import { apiStatus } from '../cluster.ts';
import { DiscoveryV1Api, PatchStrategy } from '@kubernetes/client-node';
import { FIELD_MANAGER, type K8sObject } from '../api.ts';
import { AgentClient, type AgentPod } from './agent-client.ts';
import { sharedClaimName, sharedClaimObject, sharedClaimOf, type SharedVolumeChoice } from './agent-shared-volume.ts';
import { registryAccessObjects, registryAccessOfDaemonSet, removeUnusedRegistryAccess, type RegistryAccess } from './agent-registry-access.ts';
import { AGENT_NAME, AGENT_NAMESPACE, AGENT_TOKEN_SECRET, agentObjects, type AgentNodePaths } from './agent-manifests.ts';

export interface AgentStatus {
  installed: boolean;
  /** The DaemonSet's image. */
  image?: string;
  /** How many nodes the DaemonSet wants a pod on, and how many are ready. */
  desired: number;
  ready: number;
  pods: AgentPod[];
  /** The ReadWriteMany claim the agents mount for archives (--shared-class / --shared-claim), if any. */
  sharedClaim?: string;
  /** The DaemonSet controller has seen its newest spec and put it on every node (a new mount with the same image restarts the pods too). */
  rolledOut?: boolean;
  /** What the agents mount for a registry's pushes (--registry-secret, --registry-ca). */
  registryAccess?: { logins: boolean; ca: boolean };
}

export async function agentStatus(cluster: Cluster): Promise<AgentStatus> {
  let daemonSet: K8sObject & { status?: { desiredNumberScheduled?: number; updatedNumberScheduled?: number; observedGeneration?: number } };
  try {
    daemonSet = (await cluster.objects.read({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE },
    })) as typeof daemonSet;
  } catch (err) {
    if (apiStatus(err) === 404) return { installed: false, desired: 0, ready: 0, pods: [] };
    throw err;
  }
  const pods = [...(await new AgentClient(cluster).list()).values()];
  const sharedClaim = sharedClaimOf(daemonSet);
  return {
    installed: true,
    ...(sharedClaim ? { sharedClaim } : {}),
    image: daemonSet.spec?.template?.spec?.containers?.[0]?.image,
    desired: Number(daemonSet.status?.desiredNumberScheduled ?? 0),
    ready: pods.filter((p) => p.ready && p.image === daemonSet.spec?.template?.spec?.containers?.[0]?.image).length,
    pods,
    registryAccess: registryAccessOfDaemonSet(daemonSet),
    rolledOut:
      Number(daemonSet.status?.observedGeneration ?? 0) >= Number(daemonSet.metadata.generation ?? 0) &&
      Number(daemonSet.status?.updatedNumberScheduled ?? 0) === Number(daemonSet.status?.desiredNumberScheduled ?? 0),
  };
}

/** Applies the agent's objects and waits until every node it is scheduled to has a ready pod of this image. */
export async function installAgent(
  cluster: Cluster,
  image: string,
  paths: AgentNodePaths,
  options: {
    timeoutMs: number;
    progress?: (line: string) => void;
    nodeSelector?: Record<string, string>;
    networkPolicy?: boolean;
    /** A ReadWriteMany volume every agent mounts, for archives that travel through it (agent-shared-volume.ts). */
    sharedVolume?: SharedVolumeChoice;
    /** The registry's logins and CA (--registry-secret, --registry-ca), checked (agent-registry-access.ts). */
    registryAccess?: RegistryAccess;
  },
): Promise<AgentStatus> {
  const sharedClaim = options.sharedVolume ? sharedClaimName(options.sharedVolume) : undefined;
  const registryAccess = options.registryAccess ?? {};
  const registry = {
    logins: registryAccess.dockerConfig !== undefined,
    ...(registryAccess.caPem ? { caSha256: createHash('sha256').update(registryAccess.caPem).digest('hex') } : {}),
  };
  const objects = agentObjects(image, paths, options.nodeSelector, await apiServerSources(cluster), sharedClaim, registry).filter(
    (o) => o.kind !== 'NetworkPolicy' || options.networkPolicy !== false,
  );
  for (const object of objects) {
    await cluster.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    // The token (and the shared claim --shared-class makes) before the DaemonSet that mounts it.
    if (object.kind === 'Namespace') await ensureAgentToken(cluster);
    if (object.kind === 'Namespace')
      for (const copy of registryAccessObjects(registryAccess))
        await cluster.objects.patch(copy, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    if (object.kind === 'Namespace' && options.sharedVolume && 'storageClass' in options.sharedVolume)
      await cluster.objects.patch(
        sharedClaimObject(options.sharedVolume.storageClass),
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
  }
  // After the DaemonSet no longer mounts them: a copy this install does not keep goes.
  await removeUnusedRegistryAccess(cluster, registryAccess);
  if (options.networkPolicy === false) {
    await cluster.objects
      .delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE } })
      .catch(() => undefined);
  }
  const deadline = performance.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const status = await agentStatus(cluster);
    const line = `migbench agent: ${status.ready}/${status.desired} nodes ready`;
    if (line !== last) options.progress?.(line);
    last = line;
    if (status.desired > 0 && status.rolledOut && status.ready === status.desired && status.pods.length === status.desired) return status;
    if (performance.now() > deadline) {
      const waiting = status.pods.filter((p) => !p.ready).map((p) => `${p.pod} on ${p.node}`);
      throw new Error(
        `migbench agent: not ready on every node after ${options.timeoutMs / 1000} s (${status.ready}/${status.desired}${waiting.length ? `; waiting: ${waiting.join(', ')}` : ''}); see kubectl -n ${AGENT_NAMESPACE} describe pods`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The agent's token Secret, created once with 32 random bytes; kept as it is on a reinstall, so a run in progress keeps its token. */
async function ensureAgentToken(cluster: Cluster): Promise<void> {
  try {
    await cluster.core.createNamespacedSecret({
      namespace: AGENT_NAMESPACE,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: AGENT_TOKEN_SECRET, namespace: AGENT_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'migbench' } },
        type: 'Opaque',
        stringData: { token: randomBytes(32).toString('hex') },
      },
    });
  } catch (err) {
    if (apiStatus(err) !== 409) throw err;
  }
}

/**
 * Where the API server's pod proxy connects to the agents from: the `kubernetes` Service's endpoint
 * addresses, the control-plane nodes' InternalIPs and their pod ranges (an overlay network's tunnel
 * address on the node is in its pod range). A CNI whose host traffic leaves from another address
 * needs `--no-network-policy` (docs/kubernetes.md).
 */
async function apiServerSources(cluster: Cluster): Promise<string[]> {
  const sources = new Set<string>();
  try {
    const slices = await cluster.kubeConfig
      .makeApiClient(DiscoveryV1Api)
      .listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=kubernetes' });
    for (const s of slices.items) for (const e of s.endpoints ?? []) for (const a of e.addresses ?? []) sources.add(a);
  } catch {
    /* not readable: the nodes below */
  }
  for (const node of (await cluster.core.listNode()).items) {
    const labels = node.metadata?.labels ?? {};
    if (!('node-role.kubernetes.io/control-plane' in labels) && !('node-role.kubernetes.io/master' in labels)) continue;
    for (const a of node.status?.addresses ?? []) if (a.type === 'InternalIP') sources.add(a.address);
    for (const cidr of node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])) sources.add(cidr);
  }
  return [...sources];
}

/** Deletes the agent's namespace (its DaemonSet and pods with it) and waits until it is gone; false if it was not installed. */
export async function uninstallAgent(cluster: Cluster, timeoutMs: number): Promise<boolean> {
  try {
    await cluster.core.deleteNamespace({ name: AGENT_NAMESPACE });
  } catch (err) {
    if (apiStatus(err) === 404) return false;
    throw err;
  }
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      await cluster.core.readNamespace({ name: AGENT_NAMESPACE });
    } catch (err) {
      if (apiStatus(err) === 404) return true;
      throw err;
    }
    if (performance.now() > deadline) throw new Error(`migbench agent: namespace ${AGENT_NAMESPACE} still terminating after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
