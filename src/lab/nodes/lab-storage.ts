// The lab's storage: a StorageClass of its own (`migbench-lab`, the cluster's default) whose claims a
// small dynamic provisioner (shared-dir-provisioner.ts, a process `migbench cluster start` starts
// under a respawn loop, as a Deployment runs a user's, and `stop` ends like the lab's other components) turns into a directory under the shared directory
// both nodes see (SHARED_VOLUME_DIR, standing in for an NFS export) and a hostPath PersistentVolume
// pre-bound to the claim — the way nfs-subdir-external-provisioner serves a kubeadm cluster's NFS
// share. So the workloads' claims run on the lab as they do on a user's cluster: ReadWriteMany, a
// fresh volume per claim, the volume and its directory deleted once the claim is.
//
// The default class rather than `kubernetes.storageClass` in the lab's scenarios: a user's cluster
// with NFS usually has its class as the default, every scenario and test run on the lab (the remote
// posture's included, which gets a kubeconfig and nothing else) takes the claim path unchanged, and
// the kubernetes platform's preflight checks the default class as it would there.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig, StorageV1Api, type V1PersistentVolume, type V1PersistentVolumeClaim, type V1StorageClass } from '@kubernetes/client-node';
import { CLUSTER_RUN_DIR, SHARED_VOLUME_DIR } from './layout.ts';
import { respawnCommand } from './respawn.ts';

export const LAB_STORAGE_CLASS = 'migbench-lab';
/** The provisioner's name, in the class and in each volume's `pv.kubernetes.io/provisioned-by`. */
export const LAB_PROVISIONER = 'lab.migbench.io/shared-dir';
const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
const PROVISIONER_SCRIPT = fileURLToPath(new URL('./shared-dir-provisioner.ts', import.meta.url));
/** The provisioner process's program, as its command line ends: host-state.ts finds the process by it (no state file needed). */
export const PROVISIONER_PROGRAM = '/src/lab/nodes/shared-dir-provisioner.ts';
const PROVISIONER_LOG = join(CLUSTER_RUN_DIR, 'logs', 'shared-dir-provisioner.log');
/** Written by the provisioner once it has listed the claims and volumes and watches them. */
const PROVISIONER_READY = join(CLUSTER_RUN_DIR, 'shared-dir-provisioner.ready');

export function labStorageClass(): V1StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LAB_STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: LAB_PROVISIONER,
    // Immediate: bound when the claim is made, so a pod (re)created by a move never waits on binding.
    volumeBindingMode: 'Immediate',
    reclaimPolicy: 'Delete',
  };
}

/** A claim the provisioner should serve now: of the lab's class, not bound, not being deleted. */
export function wantsVolume(claim: V1PersistentVolumeClaim): boolean {
  return (
    claim.spec?.storageClassName === LAB_STORAGE_CLASS &&
    !claim.spec.volumeName &&
    !claim.metadata?.deletionTimestamp &&
    (claim.status?.phase ?? 'Pending') === 'Pending'
  );
}

/**
 * The volume for a claim: named `pvc-<claim uid>` (as in-tree provisioners name theirs), so a second
 * attempt for the same claim finds it (AlreadyExists) instead of making another; its directory
 * `<namespace>-<claim>-<volume>` (nfs-subdir-external-provisioner's pattern) says whose it is.
 * Throws for what a directory cannot give: a raw block device.
 */
export function volumeForClaim(claim: V1PersistentVolumeClaim, sharedDir = SHARED_VOLUME_DIR): V1PersistentVolume {
  const { name, namespace, uid } = claim.metadata ?? {};
  if (!name || !namespace || !uid) throw new Error('claim without name, namespace or uid');
  if (claim.spec?.volumeMode === 'Block') throw new Error(`${namespace}/${name}: volumeMode Block, and ${LAB_STORAGE_CLASS} gives directories only`);
  const volumeName = `pvc-${uid}`;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: volumeName, annotations: { [PROVISIONED_BY]: LAB_PROVISIONER } },
    spec: {
      capacity: { storage: String(claim.spec?.resources?.requests?.storage ?? '1Gi') },
      accessModes: claim.spec?.accessModes?.length ? claim.spec.accessModes : ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: LAB_STORAGE_CLASS,
      volumeMode: 'Filesystem',
      // Pre-bound: the PV controller binds exactly this claim to it, no other can take it.
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name, uid },
      // Type Directory: the directory is made before the volume exists; a missing one fails the pod's start rather than being made empty.
      hostPath: { path: join(sharedDir, `${namespace}-${name}-${volumeName}`), type: 'Directory' },
    },
  };
}

/** A volume of this provisioner whose claim is gone (Released) or that could not be recycled (Failed): to be deleted with its directory. */
export function isReleased(volume: V1PersistentVolume): boolean {
  return (
    volume.metadata?.annotations?.[PROVISIONED_BY] === LAB_PROVISIONER &&
    (volume.status?.phase === 'Released' || volume.status?.phase === 'Failed') &&
    !volume.metadata?.deletionTimestamp
  );
}

/** The volume's directory, only if it is one of the shared directory's own entries (never anything else on the host). */
export function volumeDirectory(volume: V1PersistentVolume, sharedDir = SHARED_VOLUME_DIR): string | undefined {
  const path = volume.spec?.hostPath?.path;
  if (!path || dirname(path) !== sharedDir || basename(path).startsWith('.')) return undefined;
  return path;
}

/**
 * Creates the class (the cluster's default) and starts the provisioner, detached (it outlives
 * migbench, like the nodes) and under the lab's respawn loop (respawn.ts), as a user's cluster runs
 * its provisioner in a Deployment: if it dies, it is started again a second later, and claims made
 * meanwhile are served then. A restart is safe: the provisioner is level-triggered (it lists the
 * claims and volumes at its start and compares what is with what should be) and names each volume
 * from its claim's uid, so a claim it served before its death is not served twice, and one whose
 * volume it had made but not yet seen is met by AlreadyExists. Returns once the provisioner's first
 * run watches the claims (it writes PROVISIONER_READY then; every later run writes it again); the
 * loop's end before that is an error — a provisioner that cannot start exits three times within
 * seconds, and the loop gives up (respawn.ts). `pid` is the loop's.
 */
export async function startLabStorage(kubeconfig: string): Promise<{ pid: number; exited: Promise<string> }> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  await kc.makeApiClient(StorageV1Api).createStorageClass({ body: labStorageClass() });
  await rm(PROVISIONER_READY, { force: true });
  const log = openSync(PROVISIONER_LOG, 'a');
  const [program, ...args] = respawnCommand(process.execPath, [
    PROVISIONER_SCRIPT,
    '--kubeconfig',
    kubeconfig,
    '--dir',
    SHARED_VOLUME_DIR,
    '--ready',
    PROVISIONER_READY,
  ]);
  const child = spawn(program!, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${PROVISIONER_SCRIPT}`);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) =>
      resolve(`the shared-dir provisioner's respawn loop ended (${signal ?? `exit ${code}`}: the provisioner's last status); log: ${PROVISIONER_LOG}`),
    );
    child.once('error', (err) => resolve(`shared-dir provisioner could not be started: ${err.message}`));
  });
  child.unref();
  let stopped: string | undefined;
  void exited.then((why) => (stopped = why));
  const deadline = performance.now() + 30_000;
  while (!existsSync(PROVISIONER_READY)) {
    if (stopped) throw new Error(`migbench cluster: ${stopped}`);
    if (performance.now() > deadline) throw new Error(`migbench cluster: the shared-dir provisioner was not watching within 30 s; log: ${PROVISIONER_LOG}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { pid: child.pid, exited };
}
