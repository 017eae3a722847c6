// `migbench agent install|uninstall|status` on any cluster: the agent's namespace and DaemonSet
// (agent-manifests.ts) applied server-side and waited for until a pod is ready on every node it is
// scheduled to, deleted with its namespace and waited for until gone, or listed per node. Installing
// needs a cluster administrator's rights (a namespace, privileged pods); using it only the role
// migbench-agent-user (deploy/kubernetes/clusterrole.yaml).
import type { Cluster } from '../cluster.ts';
import { apiStatus } from '../cluster.ts';
import { PatchStrategy } from '@kubernetes/client-node';
import { FIELD_MANAGER, type K8sObject } from '../api.ts';
import { AgentClient, type AgentPod } from './agent-client.ts';
import { AGENT_NAME, AGENT_NAMESPACE, agentObjects, type AgentNodePaths } from './agent-manifests.ts';

export interface AgentStatus {
  installed: boolean;
  /** The DaemonSet's image. */
  image?: string;
  /** How many nodes the DaemonSet wants a pod on, and how many are ready. */
  desired: number;
  ready: number;
  pods: AgentPod[];
}

export async function agentStatus(cluster: Cluster): Promise<AgentStatus> {
  let daemonSet: K8sObject & { status?: { desiredNumberScheduled?: number } };
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
  return {
    installed: true,
    image: daemonSet.spec?.template?.spec?.containers?.[0]?.image,
    desired: Number(daemonSet.status?.desiredNumberScheduled ?? 0),
    ready: pods.filter((p) => p.ready && p.image === daemonSet.spec?.template?.spec?.containers?.[0]?.image).length,
    pods,
  };
}

/** Applies the agent's objects and waits until every node it is scheduled to has a ready pod of this image. */
export async function installAgent(
  cluster: Cluster,
  image: string,
  paths: AgentNodePaths,
  options: { timeoutMs: number; progress?: (line: string) => void; nodeSelector?: Record<string, string> },
): Promise<AgentStatus> {
  for (const object of agentObjects(image, paths, options.nodeSelector)) {
    await cluster.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
  const deadline = performance.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const status = await agentStatus(cluster);
    const line = `migbench agent: ${status.ready}/${status.desired} nodes ready`;
    if (line !== last) options.progress?.(line);
    last = line;
    if (status.desired > 0 && status.ready === status.desired && status.pods.length === status.desired) return status;
    if (performance.now() > deadline) {
      const waiting = status.pods.filter((p) => !p.ready).map((p) => `${p.pod} on ${p.node}`);
      throw new Error(
        `migbench agent: not ready on every node after ${options.timeoutMs / 1000} s (${status.ready}/${status.desired}${waiting.length ? `; waiting: ${waiting.join(', ')}` : ''}); see kubectl -n ${AGENT_NAMESPACE} describe pods`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
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
