// The lab's provisioner is supervised as a Deployment supervises a user's (lab-storage.ts, under
// the respawn loop of respawn.ts): killed with SIGKILL, it is started again, and a claim of the
// lab's class made after its death is Bound within seconds, on a directory of its own, and its
// volume and directory go with it. `cluster stop` leaves neither the provisioner nor its loop.
import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { labStorageLeft } from '../../helpers/lab-claims.ts';
import { nodeProcesses } from '../../../src/lab/nodes/host-state.ts';
import { LAB_STORAGE_CLASS, PROVISIONER_PROGRAM } from '../../../src/lab/nodes/lab-storage.ts';
import { SHARED_VOLUME_DIR } from '../../../src/lab/nodes/layout.ts';
import { isRespawnLoop } from '../../../src/lab/nodes/respawn.ts';
import { stopNodeCluster } from '../../../src/lab/nodes/node-cluster.ts';
import { findProcesses, processAlive, waitForExit } from '../../../src/system/processes.ts';

const cluster = useRealNodeCluster('migbench-lab-storage');
const NAMESPACE = 'migbench';

/** Every process on the host whose command line names the provisioner's program: the provisioner itself and the loop that runs it. */
const provisionerProcesses = () =>
  findProcesses(() => true)
    .filter(({ args }) => args.some((a) => a.endsWith(PROVISIONER_PROGRAM)))
    .map(({ pid, args }) => ({ pid, loop: isRespawnLoop(args) }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('starts its provisioner again after SIGKILL: a claim made then is Bound within seconds, and its volume and directory go with it', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.state.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const provisioners = nodeProcesses().filter((p) => p.name === 'shared-dir-provisioner');
  expect(provisioners).toHaveLength(1);
  const killed = provisioners[0]!.pid;
  expect(readFileSync(`/proc/${killed}/cmdline`, 'utf8')).toContain(PROVISIONER_PROGRAM);
  process.kill(killed, 'SIGKILL');
  expect(await waitForExit(killed, 5000)).toBe(true);

  const name = 'migbench-test-after-kill';
  const t0 = performance.now();
  await core.createNamespacedPersistentVolumeClaim({
    namespace: NAMESPACE,
    body: {
      metadata: { name },
      spec: { storageClassName: LAB_STORAGE_CLASS, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Mi' } } },
    },
  });
  let claim = await core.readNamespacedPersistentVolumeClaim({ name, namespace: NAMESPACE });
  while (claim.status?.phase !== 'Bound' && performance.now() - t0 < 15_000) {
    await sleep(100);
    claim = await core.readNamespacedPersistentVolumeClaim({ name, namespace: NAMESPACE });
  }
  const boundMs = performance.now() - t0;
  process.stderr.write(`lab storage: claim ${claim.status?.phase} ${(boundMs / 1000).toFixed(1)} s after the provisioner's SIGKILL\n`);
  // The loop waits 1 s, then the provisioner lists the claims and volumes and serves this one.
  expect(claim.status?.phase, `claim ${name} after ${(boundMs / 1000).toFixed(1)} s`).toBe('Bound');
  expect(boundMs).toBeLessThan(10_000);
  const restarted = nodeProcesses().filter((p) => p.name === 'shared-dir-provisioner');
  expect(restarted).toHaveLength(1);
  expect(restarted[0]!.pid).not.toBe(killed);
  const volume = await core.readPersistentVolume({ name: claim.spec!.volumeName! });
  const dir = volume.spec?.hostPath?.path ?? '';
  expect(dir.startsWith(`${SHARED_VOLUME_DIR}/${NAMESPACE}-${name}-pvc-`), dir).toBe(true);
  expect(existsSync(dir), dir).toBe(true);

  await core.deleteNamespacedPersistentVolumeClaim({ name, namespace: NAMESPACE });
  expect(await labStorageLeft(cluster.state.kubeconfig, NAMESPACE, 15_000)).toEqual([]);
  expect(existsSync(dir), dir).toBe(false);
}, 60_000);

it('cluster stop leaves neither the provisioner nor its respawn loop', async () => {
  const before = provisionerProcesses();
  expect(before.filter((p) => p.loop)).toHaveLength(1);
  expect(before.filter((p) => !p.loop)).toHaveLength(1);
  await stopNodeCluster();
  expect(provisionerProcesses()).toEqual([]);
  // Nothing started it again after stop: a second look, past the loop's one-second wait.
  await sleep(1500);
  expect(provisionerProcesses()).toEqual([]);
  expect(before.filter((p) => processAlive(p.pid))).toEqual([]);
  expect(nodeProcesses()).toEqual([]);
}, 120_000);
