// The kubernetes platform as a driver (runner/platform-driver.ts): its checks read the cluster once
// for validate() and prepare() together; cleanup removes what migbench made in the namespace, its
// cordons, and what kubelet-checkpoint left on the nodes (through the node agent). `access` is how migbench
// reaches a cluster's nodes beyond the API (node-access.ts), handed in from the top.
import type { CleanupOutcome, CleanupRequest, PlatformDriver, RunRequest } from '../../../runner/platform-driver.ts';
import { KubeApi } from '../api.ts';
import { cleanupKubernetes } from '../cleanup.ts';
import { apiStatus, ClusterError, connectCluster, describeApiError, preflight } from '../cluster.ts';
import type { NodeAccess } from '../node-access.ts';
import { AgentCheckpointNodes } from '../agent/agent-checkpoints.ts';
import { MANAGED_BY_LABEL } from '../api.ts';
import { checkCluster, prepareKubernetesRun } from './run.ts';

export function kubernetesDriver(access: NodeAccess): PlatformDriver {
  // validate() and prepare() of one run share one reading of the cluster.
  const checks = new WeakMap<RunRequest, ReturnType<typeof checkCluster>>();
  const check = (request: RunRequest) => {
    const found = checks.get(request) ?? checkCluster(request, access);
    checks.set(request, found);
    return found;
  };
  return {
    async validate(request) {
      return (await check(request)).problems;
    },
    async prepare(request) {
      const { problems, checked } = await check(request);
      // The command validates first and stops at a problem; a problem here is a caller's mistake.
      if (problems.length > 0 || !checked) throw new Error(`kubernetes: prepare() of a run with problems:\n${problems.join('\n')}`);
      return prepareKubernetesRun(request, checked, access);
    },
    cleanup: (request) => cleanupCluster(request),
  };
}

/**
 * What migbench created in the namespace, and its cordons (needs no root); through the node agent,
 * when installed, what kubelet-checkpoint left on the nodes for this namespace: a source a killed move left stopped is
 * resumed first (a stopped process ignores the SIGTERM of its pod's deletion until the grace period
 * ends), then its images and archives go; cleanup returns once migbench's pods are gone.
 */
async function cleanupCluster(request: CleanupRequest): Promise<CleanupOutcome> {
  const { namespace } = request.cluster;
  let api: KubeApi;
  try {
    const cluster = connectCluster(request.cluster);
    await preflight(cluster);
    api = new KubeApi(cluster, { dryRun: false, print: () => undefined });
  } catch (err) {
    // The command names the cluster by flags, not by scenario fields.
    if (err instanceof ClusterError)
      return {
        problems: [
          err.message.replace(/kubernetes\.kubeconfig \(or --kubeconfig\)/g, '--kubeconfig').replace(/kubernetes\.(kubeconfig|context|namespace)/g, '--$1'),
        ],
      };
    throw err;
  }
  const removed: string[] = [];
  const checkpointNodes = await AgentCheckpointNodes.connect(api.cluster);
  // On the nodes only this namespace's (another run's in another namespace may be moving a pod right now).
  removed.push(...(await checkpointNodes.removeLeftovers(request.cluster.allNamespaces ? { allNamespaces: true } : { namespace })));
  try {
    removed.push(...(await cleanupKubernetes(api)));
  } catch (err) {
    if (apiStatus(err) === 403)
      return {
        problems: [
          `migbench cleanup: not allowed in namespace ${namespace} (${describeApiError(err)}); bind the migbench ClusterRole (deploy/kubernetes/clusterrole.yaml) there`,
        ],
      };
    throw err;
  }
  const left = await waitForPodsGone(api, PODS_GONE_TIMEOUT_MS);
  if (left.length > 0)
    return {
      problems: [...removed.map((r) => `removed: ${r}`), `migbench cleanup: pods still there after ${PODS_GONE_TIMEOUT_MS / 1000} s: ${left.join(', ')}`],
    };
  return { removed };
}

const PODS_GONE_TIMEOUT_MS = 120_000;

/** Until no pod of migbench's is left in the namespace (deleted ones included); the names still there at the deadline. */
async function waitForPodsGone(api: KubeApi, timeoutMs: number): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = (await api.listPods(`${MANAGED_BY_LABEL}=migbench`)).map((p) => p.metadata?.name ?? '?');
    if (left.length === 0 || performance.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 250));
  }
}
