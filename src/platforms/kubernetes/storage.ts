// The volumes a run's workloads claim, checked before anything is created: the StorageClass the
// claims get (kubernetes.storageClass, else the cluster's default) exists and can give what they ask
// for — ReadWriteMany, because the data must follow the pod to the target node while the source may
// still hold it (an RWO volume stays attached to kubelet-checkpoint's stopped source: the restore
// waits for it for ever). And a trial's claims are gone before the next trial makes them again.
import { StorageV1Api, type V1StorageClass } from '@kubernetes/client-node';
import { sleep } from '../../clock.ts';
import type { K8sObject, KubeApi } from './api.ts';
import { apiStatus, describeApiError, type Cluster } from './cluster.ts';

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const STATIC_PROVISIONER = 'kubernetes.io/no-provisioner';
/**
 * Provisioners of block volumes, attached to one node at a time (ReadWriteOnce only). A class of
 * another provisioner is taken at its word: Kubernetes does not say which access modes it gives.
 */
const BLOCK_ONLY_PROVISIONERS = [
  'ebs.csi.aws.com',
  'kubernetes.io/aws-ebs',
  'pd.csi.storage.gke.io',
  'kubernetes.io/gce-pd',
  'disk.csi.azure.com',
  'kubernetes.io/azure-disk',
  'rancher.io/local-path',
  'openebs.io/local',
  'topolvm.io',
  'cinder.csi.openstack.org',
  'kubernetes.io/cinder',
  'csi.vsphere.vmware.com',
  'driver.longhorn.io',
];

const needsShared = (claim: K8sObject) => ((claim.spec?.accessModes ?? []) as string[]).includes('ReadWriteMany');

/** Every problem of the claims' storage on this cluster, each naming the field and the fix. */
export async function storageProblems(cluster: Cluster, claims: readonly K8sObject[], storageClass: string | undefined): Promise<string[]> {
  if (claims.length === 0) return [];
  const names = claims.map((c) => c.metadata.name).join(', ');
  let classes: V1StorageClass[];
  try {
    classes = (await cluster.kubeConfig.makeApiClient(StorageV1Api).listStorageClass()).items;
  } catch (err) {
    return [
      `kubernetes.storageClass: ${cluster.context} may not list StorageClasses (${describeApiError(err)}), needed to check the volumes of ${names}; bind deploy/kubernetes/clusterrole.yaml's migbench-nodes role to it`,
    ];
  }
  const chosen =
    storageClass !== undefined
      ? classes.find((c) => c.metadata?.name === storageClass)
      : classes.find((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  const available = classes.map((c) => `${c.metadata?.name} (${c.provisioner})`).join(', ') || 'none';
  if (!chosen) {
    return [
      storageClass !== undefined
        ? `kubernetes.storageClass: no StorageClass ${JSON.stringify(storageClass)} on ${cluster.server} (it has: ${available}); name one of them, one that gives ReadWriteMany volumes`
        : `kubernetes.storageClass: ${names} claim a volume, and ${cluster.server} has no default StorageClass (it has: ${available}); set kubernetes.storageClass to a class that gives ReadWriteMany volumes (NFS, CephFS…)`,
    ];
  }
  const name = chosen.metadata!.name!;
  const shared = claims.filter(needsShared);
  if (shared.length === 0) return [];
  const why = `${shared.map((c) => c.metadata.name).join(', ')} must be ReadWriteMany: the data follows the pod to the target node while the source may still hold it`;
  if (BLOCK_ONLY_PROVISIONERS.includes(chosen.provisioner)) {
    return [
      `kubernetes.storageClass: StorageClass ${name} (${chosen.provisioner}) gives ReadWriteOnce volumes only, and ${why}; name a class that gives ReadWriteMany (e.g. nfs.csi.k8s.io, CephFS)`,
    ];
  }
  if (chosen.provisioner === STATIC_PROVISIONER) {
    // Statically provisioned: the volumes must be there already, one per claim.
    let free: number;
    try {
      const volumes = (await cluster.core.listPersistentVolume()).items;
      free = volumes.filter(
        (v) => v.spec?.storageClassName === name && v.status?.phase === 'Available' && (v.spec?.accessModes ?? []).includes('ReadWriteMany'),
      ).length;
    } catch (err) {
      return [
        `kubernetes.storageClass: ${cluster.context} may not list PersistentVolumes (${describeApiError(err)}), needed to check StorageClass ${name}'s volumes; bind deploy/kubernetes/clusterrole.yaml's migbench-nodes role to it`,
      ];
    }
    if (free < shared.length) {
      return [
        `kubernetes.storageClass: StorageClass ${name} is statically provisioned and has ${free} Available ReadWriteMany PersistentVolume(s) for ${shared.length} claim(s), and ${why}; create them (an NFS export each) or name a class with a provisioner`,
      ];
    }
  }
  return [];
}

/** Waits until the named claims are gone (their protection finalizer lets go once no pod uses them); the next trial makes them again. */
export async function waitForClaimsGone(api: KubeApi, claims: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (const name of claims) {
    for (;;) {
      let present: boolean;
      try {
        present =
          (await api.cluster.core.listNamespacedPersistentVolumeClaim({ namespace: api.namespace, fieldSelector: `metadata.name=${name}` })).items.length > 0;
      } catch (err) {
        if (apiStatus(err) === 404) break;
        throw err;
      }
      if (!present) break;
      if (performance.now() > deadline)
        throw new Error(`PersistentVolumeClaim ${name} still there ${timeoutMs} ms after it was deleted (a pod still using it, or its volume not released)`);
      await sleep(200, signal);
    }
  }
}
