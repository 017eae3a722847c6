// A workload's manifest (workloads/<type>/k8s.yaml, the recipe for a real cluster) as the real-node
// cluster on this host runs it, for the lab's own stand-in images only (an image pinned by digest —
// `kubernetes.images`, e.g. from the lab's registry — is the real app and is pulled and run as on
// any cluster). Two changes, and nothing else:
//  - imagePullPolicy: Never — the images are imported into each node's containerd (no registry here);
//  - the host's /usr (and /etc/alternatives) mounted read-only — the programs the images leave out
//    (workload-images.ts).
// The PersistentVolumeClaims stay as they are: the lab's default StorageClass gives each a volume on
// the directory both nodes see (lab-storage.ts), as an NFS class would on a user's cluster.
import type { K8sObject } from '../../platforms/kubernetes/api.ts';

/** The host's programs, and the Debian alternatives links some of them load through (libblas.so.3 for PyTorch). */
const HOST_PROGRAM_DIRS = [
  { name: 'migbench-host-usr', path: '/usr' },
  { name: 'migbench-host-alternatives', path: '/etc/alternatives' },
];
const isHostVolume = (name: string) => HOST_PROGRAM_DIRS.some((d) => d.name === name);

export function realNodeManifests(objects: readonly K8sObject[]): K8sObject[] {
  return objects.map((original) => {
    const o = structuredClone(original);
    const podSpec = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    if (podSpec) adaptPodSpec(podSpec);
    return o;
  });
}

// The pod spec is the API's free-form object here, as in manifests.ts.
function adaptPodSpec(spec: any): void {
  let hostPrograms = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    // An image pinned by digest (kubernetes.images: the real app, from the lab's registry or
    // another) is pulled as on any cluster and runs its own programs: left as it is.
    if (isPulledImage(c.image)) continue;
    hostPrograms = true;
    c.imagePullPolicy = 'Never';
    c.volumeMounts = [
      ...(c.volumeMounts ?? []).filter((m: { name: string }) => !isHostVolume(m.name)),
      ...HOST_PROGRAM_DIRS.map((d) => ({ name: d.name, mountPath: d.path, readOnly: true })),
    ];
  }
  const volumes = (spec.volumes ?? []).filter((v: { name: string }) => !isHostVolume(v.name));
  spec.volumes = [...volumes, ...(hostPrograms ? HOST_PROGRAM_DIRS.map((d) => ({ name: d.name, hostPath: { path: d.path, type: 'Directory' } })) : [])];
}

/** An image reference pinned by digest: one the node pulls, not one of the lab's imported stand-ins. */
const isPulledImage = (image: unknown) => typeof image === 'string' && image.includes('@sha256:');
