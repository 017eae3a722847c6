// The lab's dynamic provisioner (lab-storage.ts says what and why), run as its own process:
//   node shared-dir-provisioner.ts --kubeconfig FILE --dir SHARED_DIR --ready FILE
// A controller as Kubernetes' external provisioners are: it watches claims and volumes through the
// API server (informers: list, then watch, re-listed after an error) and on every change compares
// what is with what should be — a claim of the lab's class without a volume gets a directory and a
// pre-bound PersistentVolume; a volume of its own whose claim is gone (Released) loses its directory,
// then the volume. Level-triggered, with names derived from the claim's uid, so a change seen twice,
// late, or after a restart does the right thing once.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import { isReleased, volumeDirectory, volumeForClaim, wantsVolume } from './lab-storage.ts';

/** A safety net besides the watches: a pass every few seconds catches a change whose handling failed. */
const RESYNC_MS = 5000;
const ERROR_RESTART_MS = 1000;

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const status = (err: unknown) => (err as { code?: number }).code;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, dir: { type: 'string' }, ready: { type: 'string' } } });
  if (!values.kubeconfig || !values.dir || !values.ready) throw new Error('usage: shared-dir-provisioner.ts --kubeconfig FILE --dir SHARED_DIR --ready FILE');
  const sharedDir = values.dir;
  const kc = new KubeConfig();
  kc.loadFromFile(values.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await mkdir(sharedDir, { recursive: true });

  // A directory no volume names was left by a provisioner stopped between its mkdir and its create: gone before the watches start.
  const named = new Set((await core.listPersistentVolume()).items.map((v) => volumeDirectory(v, sharedDir)).filter(Boolean));
  for (const entry of await readdir(sharedDir)) {
    if (named.has(join(sharedDir, entry))) continue;
    await rm(join(sharedDir, entry), { recursive: true, force: true });
    log(`removed ${join(sharedDir, entry)}: no volume names it`);
  }

  const claims = makeInformer<V1PersistentVolumeClaim>(kc, '/api/v1/persistentvolumeclaims', () => core.listPersistentVolumeClaimForAllNamespaces());
  const volumes = makeInformer<V1PersistentVolume>(kc, '/api/v1/persistentvolumes', () => core.listPersistentVolume());

  async function provision(claim: V1PersistentVolumeClaim): Promise<void> {
    const what = `${claim.metadata?.namespace}/${claim.metadata?.name}`;
    let volume: V1PersistentVolume;
    try {
      volume = volumeForClaim(claim, sharedDir);
    } catch (err) {
      log(`not provisioning ${what}: ${(err as Error).message}`);
      return;
    }
    const dir = volume.spec!.hostPath!.path;
    // World-writable, as nfs-subdir-external-provisioner makes its directories: the pod's user may be anyone.
    await mkdir(dir, { recursive: true, mode: 0o777 });
    try {
      await core.createPersistentVolume({ body: volume });
      log(`provisioned ${volume.metadata!.name} for ${what} at ${dir}`);
    } catch (err) {
      if (status(err) !== 409) throw err; // 409: made by an earlier pass whose update the cache had not seen yet
    }
  }

  async function reclaim(volume: V1PersistentVolume): Promise<void> {
    const name = volume.metadata!.name!;
    const dir = volumeDirectory(volume, sharedDir);
    // The directory first: once the volume is gone, so is its data (a test or a user may rely on it).
    if (dir) await rm(dir, { recursive: true, force: true });
    try {
      await core.deletePersistentVolume({ name });
      log(`deleted ${name} and ${dir ?? 'no directory of the shared one'} (claim ${volume.spec?.claimRef?.namespace}/${volume.spec?.claimRef?.name} gone)`);
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
  }

  // One pass at a time; a change during a pass asks for one more after it.
  let running: Promise<void> | undefined;
  let again = false;
  const reconcile = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        const bound = new Set(volumes.list().map((v) => v.spec?.claimRef?.uid));
        for (const claim of claims.list()) if (wantsVolume(claim) && !bound.has(claim.metadata?.uid)) await provision(claim).catch(failed);
        for (const volume of volumes.list()) if (isReleased(volume)) await reclaim(volume).catch(failed);
      } while (again);
    })().finally(() => (running = undefined));
  };
  const failed = (err: unknown) => log(`error (retried on the next change or within ${RESYNC_MS} ms): ${(err as Error).message ?? err}`);

  const watch = <T extends KubernetesObject>(informer: Informer<T> & ObjectCache<T>, what: string) => {
    for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, reconcile);
    informer.on('error', (err) => {
      log(`${what} watch ended (${err?.message ?? err}); listing again in ${ERROR_RESTART_MS} ms`);
      setTimeout(() => void informer.start().catch(failed), ERROR_RESTART_MS);
    });
  };
  watch(claims, 'claims');
  watch(volumes, 'volumes');
  await Promise.all([claims.start(), volumes.start()]);
  const resync = setInterval(reconcile, RESYNC_MS);
  reconcile();
  await writeFile(values.ready, `${process.pid}\n`);
  log(`watching claims of the lab's class; directories under ${sharedDir}`);

  const stop = async () => {
    clearInterval(resync);
    await Promise.all([claims.stop(), volumes.stop()]);
    await running;
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  log(`shared-dir provisioner: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
