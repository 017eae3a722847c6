// CRIU's cache of what it learned about the kernel ("kerndat": the vDSO layout, a compat task it
// forks to parse the 32-bit vDSO, pagemap, socket diag, …). Every CRIU run needs those facts; it
// reads them from /run/criu.kdat when that file exists, and otherwise probes the kernel again
// (measured here: ≈ 25 ms of each restore, inside the outage) and saves the file — but only where
// /run is a tmpfs, so that a reboot into another kernel can never leave a stale copy behind.
//
// On a systemd host, a Kubernetes node among them, /run is a tmpfs: CRIU probes once per boot and
// every dump and restore after starts from the cache. On a host whose /run is a plain directory
// (this project's Firecracker VM: ext4) it never saves it, and every CRIU run pays the probe again —
// a cost of that host, not of CRIU migration. The local platform stands for a node, so with `auto`
// it gives CRIU the cache a node would have: made by CRIU itself (`criu check` in a private mount
// namespace whose /run is a tmpfs, the only place CRIU agrees to write it), copied to /run/criu.kdat
// for the run, removed when the run ends; `migbench cleanup` removes one a crashed run left (it
// finds the marker next to the pods). A cache already there is left alone.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { exec } from '../../system/exec.ts';
import { RUN_DIR } from './names.ts';

export const CRIU_KDAT = '/run/criu.kdat';
/** Written beside the cache migbench provided, so cleanup after a crash removes only that one. */
export const PROVIDED_MARKER = `${RUN_DIR}/criu.kdat.provided`;
/** statfs(2)'s f_type of a tmpfs (linux/magic.h). */
const TMPFS_MAGIC = 0x01021994;

/** How CRIU found its kernel facts during a run (run.json's platform.criuKernelCache). */
export type CriuKernelCacheState =
  /** /run is a tmpfs: CRIU keeps its own cache, as on any systemd node. */
  | 'host-tmpfs'
  /** /run/criu.kdat was already there (left by someone else): used as found. */
  | 'host-file'
  /** /run is no tmpfs; migbench made the cache with CRIU for this run (local.criuKernelCache: auto). */
  | 'provided'
  /** local.criuKernelCache: off on a host whose /run is no tmpfs: CRIU probes the kernel on every run. */
  | 'none';

export class CriuKernelCache {
  readonly state: CriuKernelCacheState;
  private constructor(state: CriuKernelCacheState) {
    this.state = state;
  }

  /** Provides the cache where the host lacks one and `mode` allows it. */
  static async prepare(criu: string, mode: 'auto' | 'off'): Promise<CriuKernelCache> {
    if ((await statfs('/run')).type === TMPFS_MAGIC) return new CriuKernelCache('host-tmpfs');
    if (existsSync(CRIU_KDAT)) return new CriuKernelCache(existsSync(PROVIDED_MARKER) ? 'provided' : 'host-file');
    if (mode === 'off') return new CriuKernelCache('none');
    const made = `${CRIU_KDAT}.migbench-${process.pid}`;
    // The marker first: whatever of this is left after a crash, cleanup knows it is ours.
    await mkdir(RUN_DIR, { recursive: true });
    await writeFile(PROVIDED_MARKER, `${process.pid}\n`);
    // CRIU writes its cache only onto a tmpfs: a private mount namespace gets one over /run, where
    // `criu check` probes the kernel and saves it; the copy goes out through /proc/<our pid>/root,
    // which still sees the host's /run.
    const result = await exec(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount -t tmpfs migbench-kdat /run && "$1" check >/dev/null 2>&1; cp /run/criu.kdat "$2"',
        'sh',
        criu,
        `/proc/${process.pid}/root${made}`,
      ],
      { allowFailure: true, timeoutMs: 60_000 },
    );
    if (result.exitCode !== 0 || !existsSync(made)) {
      await rm(made, { force: true });
      await rm(PROVIDED_MARKER, { force: true });
      throw new Error(
        `CRIU did not write its kernel-facts cache in a private tmpfs /run (${(result.stderr || result.stdout).trim() || `exit ${result.exitCode}`}); ` +
          'set local.criuKernelCache: off to run without it (every dump and restore then probes the kernel again)',
      );
    }
    await rename(made, CRIU_KDAT).catch(async () => {
      await copyFile(made, CRIU_KDAT);
      await rm(made, { force: true });
    });
    return new CriuKernelCache('provided');
  }

  /** Removes the cache migbench provided (and only that). */
  async remove(): Promise<void> {
    if (this.state === 'provided') await removeProvidedKernelCache();
  }
}

/** The cache a run provided (its marker says so), e.g. after a crash; nothing else. Returns what it removed. */
export async function removeProvidedKernelCache(): Promise<string[]> {
  if (!existsSync(PROVIDED_MARKER)) return [];
  // A copy interrupted half-way too (its name carries the run's pid).
  for (const partial of (await readdir('/run')).filter((f) => f.startsWith('criu.kdat.migbench-'))) await rm(`/run/${partial}`, { force: true });
  await rm(CRIU_KDAT, { force: true });
  await rm(PROVIDED_MARKER, { force: true });
  return [CRIU_KDAT];
}
