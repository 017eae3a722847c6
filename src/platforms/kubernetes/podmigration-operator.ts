// The podmigration-operator's resource type as a cluster serves it (its CRD): what the podmigration
// strategy creates, what a run checks is served before its first trial, and what `migbench cleanup`
// removes. Here, with the cluster, so that the platform's own checks and cleanup need no strategy.
import { describeApiError, type Cluster } from './cluster.ts';

export const PODMIGRATION_API_VERSION = 'podmig.dcn.ssu.ac.kr/v1';
export const PODMIGRATION_KIND = 'Podmigration';

/** The operator's resource type must be served, or every podmigration trial would fail the same way. */
export async function podmigrationResourceProblem(cluster: Cluster): Promise<string | undefined> {
  try {
    await cluster.objects.list(PODMIGRATION_API_VERSION, PODMIGRATION_KIND, cluster.namespace);
    return undefined;
  } catch (err) {
    return `strategies: podmigration: the cluster does not serve ${PODMIGRATION_API_VERSION} Podmigration (${describeApiError(err)}); install the podmigration-operator (or at least its CRD: kubectl apply -f deploy/kubernetes/podmigration-crd.yaml)`;
  }
}
