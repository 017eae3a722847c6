// The workloads' volume claims on a cluster: before anything is created, the StorageClass they get
// (kubernetes.storageClass, else the cluster's default) must exist and give ReadWriteMany volumes —
// the data follows the pod to the target node while the source may still hold it. Each problem is
// exit 2 naming the class and the fix; a class that fits passes (the lab's own, migbench-lab, among them).
// Against the sim cluster's real API server, with StorageClass objects made for the test.
import { beforeAll, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn, type AdminClients } from './cluster-kit.ts';
import { LAB_STORAGE_CLASS, labStorageClass } from '../../../src/lab/nodes/lab-storage.ts';

const cluster = useSimCluster();
let admin: AdminClients;
let base: string;

const storageClass = (name: string, provisioner: string, isDefault = false) => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  provisioner,
  metadata: { name, ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
});

beforeAll(async () => {
  admin = adminClients(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-storage-`);
  for (const sc of [
    storageClass('block', 'ebs.csi.aws.com'),
    storageClass('static', 'kubernetes.io/no-provisioner'),
    storageClass('nfs', 'nfs.csi.k8s.io'),
    // The lab's own class, as `migbench cluster start` makes it (src/lab/nodes/lab-storage.ts), less its default mark.
    { ...labStorageClass(), metadata: { name: LAB_STORAGE_CLASS } },
  ])
    await admin.objects.create(sc as any);
});

/** `migbench run --dry-run` of a redis scenario (its data on a ReadWriteMany claim) with these kubernetes fields. */
async function dryRun(fields: string) {
  const file = join(base, 'redis.yaml');
  writeFileSync(
    file,
    `platform: kubernetes\nkubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: default, probes: false, sourceNode: worker-a, targetNode: worker-b${fields} }\nworkloads: [{ type: redis }]\nstrategies: [redeploy]\nrepetitions: 1\n`,
  );
  return migbenchAsync(['run', file, '--dry-run', '--out', join(base, 'out')]);
}

it.each([
  [
    'no default class and none named',
    '',
    /kubernetes\.storageClass: migbench-redis-data claim a volume, and .* has no default StorageClass \(it has: .*block \(ebs\.csi\.aws\.com\).*\); set kubernetes\.storageClass to a class that gives ReadWriteMany/,
  ],
  ['a class that does not exist', ', storageClass: fast', /kubernetes\.storageClass: no StorageClass "fast" on .*; name one of them/],
  [
    'a ReadWriteOnce-only class',
    ', storageClass: block',
    /StorageClass block \(ebs\.csi\.aws\.com\) gives ReadWriteOnce volumes only, and migbench-redis-data must be ReadWriteMany.*; name a class that gives ReadWriteMany/,
  ],
  [
    'a static class without free volumes',
    ', storageClass: static',
    /StorageClass static is statically provisioned and has 0 Available ReadWriteMany PersistentVolume\(s\) for 1 claim\(s\).*create them/,
  ],
])('refuses %s: exit 2, naming the class and the fix, nothing created', { timeout: 120_000 }, async (_, fields, message) => {
  const run = await dryRun(fields);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(message);
  expect(await migbenchObjectsIn(admin, 'default')).toEqual([]);
});

it('takes a class that gives ReadWriteMany, named or the default', { timeout: 120_000 }, async () => {
  const named = await dryRun(', storageClass: nfs');
  expect(named.code, named.stderr).toBe(0);
  expect(named.stdout).toMatch(/persistentvolumeclaims\/migbench-redis-data/);
  const lab = await dryRun(`, storageClass: ${LAB_STORAGE_CLASS}`);
  expect(lab.code, lab.stderr).toBe(0);
  await admin.objects.patch(
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'nfs', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    } as any,
    undefined,
    undefined,
    'migbench-test',
    undefined,
    'application/merge-patch+json',
  );
  const byDefault = await dryRun('');
  expect(byDefault.code, byDefault.stderr).toBe(0);
});
