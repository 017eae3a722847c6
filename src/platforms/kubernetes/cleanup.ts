// `migbench cleanup --platform kubernetes`: removes what migbench created in the namespace (found by
// its managed-by label; the Podmigrations the operator's REST API made, which carry no labels, by
// their migbench-made names) and uncordons the nodes a migbench run in this namespace cordoned
// (found by its annotation, which names the run's namespace; a node someone else cordoned has none,
// and one a run in another namespace cordoned is that run's, and both stay as they are). Idempotent.
import { MANAGED_BY_LABEL, CORDONED_BY_ANNOTATION, cordonedFrom, type KubeApi, type K8sObject } from './api.ts';
import { apiStatus } from './cluster.ts';
import { PODMIGRATION_API_VERSION, PODMIGRATION_KIND } from './podmigration-operator.ts';

const KINDS: [apiVersion: string, kind: string][] = [
  [PODMIGRATION_API_VERSION, PODMIGRATION_KIND],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['v1', 'Pod'],
  ['v1', 'Service'],
  ['v1', 'PersistentVolumeClaim'],
];

export async function cleanupKubernetes(api: KubeApi, runId = 'cleanup'): Promise<string[]> {
  const removed: string[] = [];
  const { cluster } = api;
  for (const [apiVersion, kind] of KINDS) {
    let items: K8sObject[];
    try {
      items = (await cluster.objects.list(apiVersion, kind, cluster.namespace)).items as K8sObject[];
    } catch (err) {
      // No podmigration CRD on this cluster: nothing of that kind to remove.
      if (kind === PODMIGRATION_KIND && (apiStatus(err) === 404 || !apiStatus(err))) continue;
      throw err;
    }
    for (const item of items) {
      // A Podmigration made through the REST API has no labels; it names a migbench pod (every workload's is migbench-*).
      const ours =
        item.metadata.labels?.[MANAGED_BY_LABEL] === 'migbench' || (kind === PODMIGRATION_KIND && String(item.spec?.sourcePod ?? '').startsWith('migbench-'));
      if (!ours) continue;
      await api.delete({ apiVersion, kind, metadata: { name: item.metadata.name, namespace: cluster.namespace } });
      removed.push(`${kind} ${cluster.namespace}/${item.metadata.name}`);
    }
  }
  for (const node of (await cluster.core.listNode()).items) {
    const owner = node.metadata?.annotations?.[CORDONED_BY_ANNOTATION];
    if (owner === undefined || !cordonedFrom(owner, cluster.namespace)) continue;
    const name = node.metadata!.name!;
    await api.setUnschedulable(name, false, runId);
    removed.push(`cordon of node ${name} (uncordoned)`);
  }
  return removed;
}
