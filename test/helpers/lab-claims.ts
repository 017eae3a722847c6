// What the lab's StorageClass (src/lab/nodes/lab-storage.ts) did during a run, seen from outside as
// a user would check it: the claims in the namespace, their volumes, and the files in each volume's
// directory under the shared one — polled while the CLI runs (a claim lives for one trial only).
// And, after the run, that no claim, volume of the lab's provisioner or directory is left.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { LAB_PROVISIONER, LAB_STORAGE_CLASS } from '../../src/lab/nodes/lab-storage.ts';
import { SHARED_VOLUME_DIR } from '../../src/lab/nodes/layout.ts';

export interface SeenClaim {
  name: string;
  storageClass?: string;
  phases: Set<string>;
  volume?: { name: string; path?: string; accessModes: string[]; provisioner?: string };
  /** Every path seen under the volume's directory, relative to it. */
  files: Set<string>;
}

const core = (kubeconfig: string) => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc.makeApiClient(CoreV1Api);
};

const listTree = (dir: string): string[] => {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => relative(dir, join(dir, p)));
  } catch {
    return []; // not made yet, or gone with its claim
  }
};

/** Records the namespace's claims (by uid) every `pollMs` until stop() returns them. */
export function watchLabClaims(kubeconfig: string, namespace: string, pollMs = 200): { stop: () => Promise<SeenClaim[]> } {
  const api = core(kubeconfig);
  const seen = new Map<string, SeenClaim>();
  let stopped = false;
  const poll = (async () => {
    while (!stopped) {
      try {
        const volumes = new Map((await api.listPersistentVolume()).items.map((v) => [v.metadata?.name, v]));
        for (const c of (await api.listNamespacedPersistentVolumeClaim({ namespace })).items) {
          const uid = c.metadata?.uid ?? '';
          const entry = seen.get(uid) ?? { name: c.metadata?.name ?? '', phases: new Set<string>(), files: new Set<string>() };
          if (c.spec?.storageClassName) entry.storageClass = c.spec.storageClassName;
          if (c.status?.phase) entry.phases.add(c.status.phase);
          const pv = c.spec?.volumeName ? volumes.get(c.spec.volumeName) : undefined;
          if (pv) {
            entry.volume = {
              name: pv.metadata?.name ?? '',
              ...(pv.spec?.hostPath?.path ? { path: pv.spec.hostPath.path } : {}),
              accessModes: pv.spec?.accessModes ?? [],
              ...(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by']
                ? { provisioner: pv.metadata.annotations['pv.kubernetes.io/provisioned-by'] }
                : {}),
            };
            if (pv.spec?.hostPath?.path) for (const f of listTree(pv.spec.hostPath.path)) entry.files.add(f);
          }
          seen.set(uid, entry);
        }
      } catch {
        /* the API busy for a moment: the next poll */
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await poll;
      return [...seen.values()];
    },
  };
}

/** What of the lab's storage is still there `timeoutMs` after a run (the provisioner deletes released volumes within moments): claims, volumes, directories. */
export async function labStorageLeft(kubeconfig: string, namespace: string, timeoutMs = 20_000): Promise<string[]> {
  const api = core(kubeconfig);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = [
      ...(await api.listNamespacedPersistentVolumeClaim({ namespace })).items.map((c) => `claim ${c.metadata?.name}`),
      ...(await api.listPersistentVolume()).items
        .filter((v) => v.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] === LAB_PROVISIONER)
        .map((v) => `volume ${v.metadata?.name} (${v.status?.phase})`),
      ...listTree(SHARED_VOLUME_DIR)
        .filter((p) => !p.includes('/'))
        .map((d) => `directory ${join(SHARED_VOLUME_DIR, d)}`),
    ];
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The app's own file in each workload's volume: Redis' AOF directory, the trainer's save. */
export const VOLUME_DATA = { 'migbench-redis-data': 'appendonlydir', 'migbench-ml-training-data': 'checkpoint.pt' } as const;

/**
 * Each seen claim as a test compares it: its class, whether it was Bound, its volume's provisioner
 * and access modes, whether the volume's directory is one of the shared directory's, and whether the
 * app's data file was in it.
 */
export function claimSummary(seen: readonly SeenClaim[]) {
  return seen
    .map((c) => ({
      name: c.name,
      storageClass: c.storageClass,
      bound: c.phases.has('Bound'),
      provisioner: c.volume?.provisioner,
      accessModes: c.volume?.accessModes,
      onSharedDir: c.volume?.path !== undefined && c.volume.path.startsWith(`${SHARED_VOLUME_DIR}/`),
      appData: c.files.has(VOLUME_DATA[c.name as keyof typeof VOLUME_DATA] ?? '(none expected)'),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** claimSummary's entry for a claim the lab's class served as it should: Bound, its RWX volume on the shared directory, the app's data in it. */
export const servedByLabClass = (name: keyof typeof VOLUME_DATA) => ({
  name,
  storageClass: LAB_STORAGE_CLASS,
  bound: true,
  provisioner: LAB_PROVISIONER,
  accessModes: ['ReadWriteMany'],
  onSharedDir: true,
  appData: true,
});
