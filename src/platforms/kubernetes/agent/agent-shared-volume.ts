// The shared ReadWriteMany volume the node agents pass checkpoint archives through
// (kubelet-checkpoint's and runtime-restore's `transfer: shared-volume`; agent/shared_transfer.go): the claim every agent pod
// mounts, chosen when the agent is installed (`migbench agent install --shared-class CLASS`, which
// makes the claim migbench-agent-shared from an RWX class, e.g. an NFS provisioner's or a statically
// provisioned class of NFS PersistentVolumes; or `--shared-claim CLAIM`, an RWX claim the user made
// in the agent's namespace), and the checks that it is there and ReadWriteMany — at install and
// before a run's first trial. A mount chosen at install, not patched in per run: patching the
// DaemonSet restarts every agent pod (a run killed half-way would leave it patched), and the volume
// is the cluster's, set up once by whoever installs the agent.
import { StorageV1Api, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { K8sObject } from '../api.ts';
import { apiStatus, describeApiError, type Cluster } from '../cluster.ts';
import { AGENT_NAME, AGENT_NAMESPACE, SHARED_VOLUME } from './agent-manifests.ts';

/** The claim `--shared-class` makes (deleted with the agent's namespace by `migbench agent uninstall`). */
export const SHARED_CLAIM = 'migbench-agent-shared';
/** What `--shared-class` asks for: archives are one at a time per trial (a 192 MB trainer's is the largest migbench makes). */
const SHARED_CLAIM_SIZE = '10Gi';

export type SharedVolumeChoice = { storageClass: string } | { claim: string };

export function sharedClaimName(choice: SharedVolumeChoice): string {
  return 'claim' in choice ? choice.claim : SHARED_CLAIM;
}

/** The claim `--shared-class` makes in the agent's namespace. */
export function sharedClaimObject(storageClass: string): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: SHARED_CLAIM, namespace: AGENT_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'migbench' } },
    spec: { accessModes: ['ReadWriteMany'], storageClassName: storageClass, resources: { requests: { storage: SHARED_CLAIM_SIZE } } },
  };
}

/** The claim an installed agent DaemonSet mounts as its shared volume, if any. */
export function sharedClaimOf(daemonSet: K8sObject): string | undefined {
  const volumes = (daemonSet.spec?.template?.spec?.volumes ?? []) as { name: string; persistentVolumeClaim?: { claimName?: string } }[];
  return volumes.find((v) => v.name === SHARED_VOLUME)?.persistentVolumeClaim?.claimName;
}

/** Why a claim as read from the API cannot be the shared volume (missing, not ReadWriteMany, not bound), or undefined. */
export function sharedClaimProblem(name: string, claim: V1PersistentVolumeClaim | undefined, fix: string): string | undefined {
  if (!claim) return `no PersistentVolumeClaim ${name} in namespace ${AGENT_NAMESPACE}; ${fix}`;
  const modes = claim.spec?.accessModes ?? [];
  if (!modes.includes('ReadWriteMany'))
    return `PersistentVolumeClaim ${AGENT_NAMESPACE}/${name} is ${modes.join(', ') || 'without access modes'}, not ReadWriteMany: both nodes' agents must mount it at once; ${fix}`;
  const phase = claim.status?.phase;
  if (phase !== undefined && phase !== 'Bound' && phase !== 'Pending') return `PersistentVolumeClaim ${AGENT_NAMESPACE}/${name} is ${phase}; ${fix}`;
  return undefined;
}

async function readClaim(cluster: Cluster, name: string): Promise<V1PersistentVolumeClaim | undefined> {
  try {
    return await cluster.core.readNamespacedPersistentVolumeClaim({ name, namespace: AGENT_NAMESPACE });
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

/** `migbench agent install --shared-class|--shared-claim`: every problem of the choice, before anything is applied. */
export async function sharedVolumeInstallProblems(cluster: Cluster, choice: SharedVolumeChoice): Promise<string[]> {
  if ('claim' in choice) {
    const found = sharedClaimProblem(
      choice.claim,
      await readClaim(cluster, choice.claim),
      `create a ReadWriteMany claim in namespace ${AGENT_NAMESPACE} (e.g. bound to an NFS PersistentVolume) or use --shared-class CLASS`,
    );
    return found ? [`--shared-claim: ${found}`] : [];
  }
  const classes = (await cluster.kubeConfig.makeApiClient(StorageV1Api).listStorageClass()).items;
  if (classes.some((c) => c.metadata?.name === choice.storageClass)) return [];
  const available = classes.map((c) => `${c.metadata?.name} (${c.provisioner})`).join(', ') || 'none';
  return [
    `--shared-class: no StorageClass ${JSON.stringify(choice.storageClass)} on ${cluster.server} (it has: ${available}); name one that gives ReadWriteMany volumes (NFS, CephFS…)`,
  ];
}

/** Before a run with a strategy of `transfer: shared-volume`: the agent mounts a shared claim, and that claim is there and ReadWriteMany. */
export async function sharedTransferProblems(cluster: Cluster): Promise<string[]> {
  const field = 'strategies[].transfer: shared-volume';
  const fix = 'install the agent with one: migbench agent install --shared-class CLASS (a ReadWriteMany StorageClass) or --shared-claim CLAIM';
  let daemonSet: K8sObject;
  try {
    daemonSet = (await cluster.objects.read({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE },
    })) as K8sObject;
  } catch (err) {
    if (apiStatus(err) === 404) return [`${field}: the node agent is not installed; ${fix}`];
    return [`${field}: could not read the node agent's DaemonSet (${describeApiError(err)})`];
  }
  const claim = sharedClaimOf(daemonSet);
  if (claim === undefined) return [`${field}: the node agent is installed without a shared volume; ${fix}`];
  let read: V1PersistentVolumeClaim | undefined;
  try {
    read = await readClaim(cluster, claim);
  } catch (err) {
    // The run's role (migbench-agent-user) need not read claims: the mount is then checked by the agents'
    // readiness (a claim that is not ReadWriteMany leaves one agent pod unready, which the strategy's check names).
    if (apiStatus(err) === 403) return [];
    return [`${field}: could not read the agent's claim ${AGENT_NAMESPACE}/${claim} (${describeApiError(err)})`];
  }
  const found = sharedClaimProblem(claim, read, fix);
  return found ? [`${field}: the node agent's shared volume: ${found}`] : [];
}
