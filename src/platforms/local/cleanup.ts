// Removes every host object the local platform creates, found by name (see names.ts), so it also
// works after a crash or a kill -9 when no in-memory record is left. Idempotent: on a clean host it
// does nothing and reports nothing.
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { exec } from '../../system/exec.ts';
import { BRIDGE, CGROUP_PARENT, LOCK_FILE, OBJECT_PREFIX, RUN_DIR, VETH_PREFIX } from './names.ts';
import { removeAllServiceRules } from './service.ts';
import { removeProvidedKernelCache } from './criu-kernel-cache.ts';
import { processAlive, waitForExit } from '../../system/processes.ts';
import { findProcesses } from '../../system/processes.ts';

export interface CleanupOptions {
  runc: string;
  iptables: string;
  ip: string;
  /** CRIU binary: stray criu processes running it are stopped. */
  criu?: string;
  /** Shared stores whose volumes/ and checkpoints/ are emptied. */
  checkpointDirs?: string[];
  /** Keep the run lock (used by a run that cleans up before it starts). */
  keepLock?: boolean;
}

/** The device name of the tmpfs a run with `checkpointStore: tmpfs` mounts, so cleanup finds it. */
export const STORE_TMPFS = 'migbench-store';

/** Where a store keeps checkpoint images: the shared checkpoints/ and each node's own nodes/<node>/. */
export function imageDirs(store: string): string[] {
  return [`${store}/checkpoints`, `${store}/nodes`];
}

/**
 * Unmounts whatever is mounted in the stores' image directories, deepest first: migbench's own tmpfs,
 * and what a CRIU restore killed half-way leaves in its work directory (`.criu.cgyard.*`, CRIU's
 * cgroup yard), which would otherwise make every later run fail to empty the store (EBUSY).
 */
export async function unmountStoreMounts(stores: string[]): Promise<string[]> {
  return unmountBelow(stores.flatMap(imageDirs));
}

/**
 * Unmounts whatever is mounted at or below `roots`, deepest first — e.g. the cgroup yard of a CRIU
 * killed half-way through a restore, before its work directory is removed (else EBUSY).
 */
export async function unmountBelow(roots: string[]): Promise<string[]> {
  const mounted = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter(Boolean)
    // /proc/mounts escapes spaces and the like as octal; our paths have none, but never unmount a guess.
    .filter((m) => !m.includes('\\') && roots.some((root) => m === root || m.startsWith(`${root}/`)));
  const unmounted: string[] = [];
  for (const mount of [...new Set(mounted)].sort((a, b) => b.length - a.length)) {
    const result = await exec('umount', [mount], { allowFailure: true });
    if (result.exitCode !== 0) await exec('umount', ['-l', mount], { allowFailure: true });
    unmounted.push(mount);
  }
  return unmounted;
}

/** The pid of another live process holding the run lock, if any. */
export function otherLockHolder(): number | undefined {
  if (!existsSync(LOCK_FILE)) return undefined;
  const pid = Number.parseInt(readFileSync(LOCK_FILE, 'utf8'), 10);
  return Number.isInteger(pid) && pid !== process.pid && processAlive(pid) ? pid : undefined;
}

/**
 * Returns a description of each thing it removed. Refuses while another process holds the run lock:
 * everything found by name would include that run's pods (e.g. `npm test` finishing while a
 * benchmark runs would pull its bridge away mid-trial).
 */
export async function cleanupLocalHost(options: CleanupOptions): Promise<string[]> {
  const holder = otherLockHolder();
  if (holder !== undefined) throw new Error(`a migbench run (pid ${holder}) is in progress; stop it first (Ctrl-C lets it clean up itself)`);
  const removed: string[] = [];

  const containers = (await exec(options.runc, ['list', '-q'], { allowFailure: true })).stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((id) => id.startsWith(OBJECT_PREFIX));
  for (const id of containers) {
    const pidText = (await exec(options.runc, ['state', id], { allowFailure: true })).stdout;
    const pid = Number((/"pid":\s*(\d+)/.exec(pidText) ?? [])[1] ?? 0);
    await exec(options.runc, ['delete', '--force', id], { allowFailure: true, timeoutMs: 30_000 });
    if (pid > 0 && processAlive(pid)) await waitForExit(pid, 10_000);
    removed.push(`container ${id}`);
  }

  // Pods restored by CRIU itself (runtime: criu) are not runc's: whatever still runs in a pod's
  // cgroup is ours (migbench's cgroup parent holds nothing else), killed before the cgroups go.
  for (const pid of processesInPodCgroups()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      continue;
    }
    await waitForExit(pid, 10_000);
    removed.push(`pod process ${pid}`);
  }

  if (options.criu) {
    for (const pid of processesRunning(options.criu)) {
      process.kill(pid, 'SIGKILL');
      removed.push(`criu process ${pid}`);
    }
  }

  const namespaces = (await exec(options.ip, ['netns', 'list'], { allowFailure: true })).stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((ns) => ns.startsWith(OBJECT_PREFIX));
  for (const ns of namespaces) {
    await exec(options.ip, ['netns', 'delete', ns], { allowFailure: true });
    removed.push(`netns ${ns}`);
  }

  if (existsSync('/sys/class/net')) {
    for (const link of readdirSync('/sys/class/net')) {
      if (new RegExp(`^${VETH_PREFIX}\\d+$`).test(link)) {
        await exec(options.ip, ['link', 'del', link], { allowFailure: true });
        removed.push(`veth ${link}`);
      }
    }
    if (existsSync(`/sys/class/net/${BRIDGE}`)) {
      await exec(options.ip, ['link', 'del', BRIDGE], { allowFailure: true });
      removed.push(`bridge ${BRIDGE}`);
    }
  }

  removed.push(...(await removeAllServiceRules(options.iptables)));
  removed.push(...removeCgroups());

  for (const mount of await unmountStoreMounts(options.checkpointDirs ?? [])) removed.push(`mount ${mount}`);
  for (const store of options.checkpointDirs ?? []) {
    for (const sub of ['volumes', 'checkpoints', 'nodes']) {
      const dir = `${store}/${sub}`;
      const entries = existsSync(dir) ? await readdir(dir) : [];
      for (const entry of entries) {
        await rm(`${dir}/${entry}`, { recursive: true, force: true });
        removed.push(`${sub.slice(0, -1)} ${dir}/${entry}`);
      }
    }
  }

  // Before RUN_DIR goes: its marker says whether /run/criu.kdat is the one a run provided.
  removed.push(...(await removeProvidedKernelCache()));
  if (existsSync(RUN_DIR)) {
    for (const entry of readdirSync(RUN_DIR)) {
      if (options.keepLock && `${RUN_DIR}/${entry}` === LOCK_FILE) continue;
      await rm(`${RUN_DIR}/${entry}`, { recursive: true, force: true });
    }
    if (!options.keepLock) await rm(RUN_DIR, { recursive: true, force: true });
  }
  return removed;
}

/** The processes in migbench's pod cgroups (cgroup v1: the freezer hierarchy, which every pod joins; v2: the tree). */
function processesInPodCgroups(): number[] {
  const parent = existsSync('/sys/fs/cgroup/cgroup.controllers') ? `/sys/fs/cgroup/${CGROUP_PARENT}` : `/sys/fs/cgroup/freezer/${CGROUP_PARENT}`;
  if (!existsSync(parent)) return [];
  const pids = new Set<number>();
  for (const child of readdirSync(parent, { withFileTypes: true })) {
    if (!child.isDirectory()) continue;
    try {
      for (const line of readFileSync(`${parent}/${child.name}/cgroup.procs`, 'utf8').split('\n')) if (/^\d+$/.test(line)) pids.add(Number(line));
    } catch {
      // Removed meanwhile.
    }
  }
  return [...pids];
}

/** runc removes a container's cgroups on delete; this catches those of containers that never got that far. */
function removeCgroups(): string[] {
  const removed: string[] = [];
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? ['/sys/fs/cgroup']
    : existsSync('/sys/fs/cgroup')
      ? readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}`)
      : [];
  for (const root of roots) {
    const parent = `${root}/${CGROUP_PARENT}`;
    if (!existsSync(parent)) continue;
    for (const child of readdirSync(parent, { withFileTypes: true })) {
      if (child.isDirectory() && tryRmdir(`${parent}/${child.name}`)) removed.push(`cgroup ${parent}/${child.name}`);
    }
    tryRmdir(parent);
  }
  return removed;
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

function processesRunning(binary: string): number[] {
  return findProcesses((b) => b === binary)
    .map((p) => p.pid)
    .filter((pid) => pid !== process.pid);
}
