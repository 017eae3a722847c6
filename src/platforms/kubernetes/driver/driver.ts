// The kubernetes platform as a driver (runner/platform-driver.ts): its checks read the cluster once
// for validate() and prepare() together; cleanup removes what migbench made in the namespace, its
// cordons, and what kubelet-checkpoint left on nodes migbench reaches. `access` is how migbench
// reaches a cluster's nodes beyond the API (node-access.ts), handed in from the top.
import type { CleanupOutcome, CleanupRequest, PlatformDriver, RunRequest } from '../../../runner/platform-driver.ts';
import { KubeApi } from '../api.ts';
import { cleanupKubernetes } from '../cleanup.ts';
import { apiStatus, ClusterError, connectCluster, describeApiError, preflight } from '../cluster.ts';
import type { NodeAccess } from '../node-access.ts';
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
    cleanup: (request) => cleanupCluster(request, access),
  };
}

/** What migbench created in the namespace, and its cordons (needs no root); on nodes it reaches also kubelet-checkpoint's files and images. */
async function cleanupCluster(request: CleanupRequest, access: NodeAccess): Promise<CleanupOutcome> {
  const { namespace } = request.cluster;
  let api: KubeApi;
  try {
    const cluster = connectCluster(request.cluster);
    await preflight(cluster);
    api = new KubeApi(cluster, { dryRun: false, print: () => undefined });
  } catch (err) {
    // The command names the cluster by flags, not by scenario fields.
    if (err instanceof ClusterError) return { problems: [err.message.replace(/kubernetes\.kubeconfig \(or --kubeconfig\)/g, '--kubeconfig').replace(/kubernetes\.(kubeconfig|context|namespace)/g, '--$1')] };
    throw err;
  }
  let removed: string[];
  try {
    removed = await cleanupKubernetes(api);
  } catch (err) {
    if (apiStatus(err) === 403) return { problems: [`migbench cleanup: not allowed in namespace ${namespace} (${describeApiError(err)}); bind the migbench ClusterRole (deploy/kubernetes/clusterrole.yaml) there`] };
    throw err;
  }
  // On nodes migbench reaches (this host's `migbench cluster`), kubelet-checkpoint's archives and images of a run that was killed.
  const checkpointNodes = await access.checkpointNodes();
  if (checkpointNodes) removed.push(...(await checkpointNodes.removeLeftovers()));
  return { removed };
}
