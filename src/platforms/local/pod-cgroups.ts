// A pod's cgroups on this host: made for a pod CRIU restores itself (runtime: criu, with the target
// node's cpuset), found by container id, and removed once empty. Shared by criu-direct.ts, which
// makes them, and pods.ts, which removes them with the pod.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { sleep } from '../../clock.ts';
import { CGROUP_PARENT } from './names.ts';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * The restored pod's cgroups, made before CRIU runs so that they carry the target node's cpuset (a
 * cpuset cgroup without cpus and mems takes no task); CRIU's soft mode leaves existing ones as they are.
 * Returns every directory made (cgroup v1: one per hierarchy).
 */
export function makeCgroups(containerId: string, cpus: string): string[] {
  if (existsSync(`${CGROUP_ROOT}/cgroup.controllers`)) return [];
  const made: string[] = [];
  // Every mounted hierarchy but the v2 tree beside them, as runc's cgroup v1 manager joins them all.
  for (const hierarchy of readdirSync(CGROUP_ROOT, { withFileTypes: true })) {
    if (!hierarchy.isDirectory() || hierarchy.name === 'unified') continue;
    const base = `${CGROUP_ROOT}/${hierarchy.name}`;
    for (const dir of [`${base}/${CGROUP_PARENT}`, `${base}/${CGROUP_PARENT}/${containerId}`]) {
      if (!existsSync(dir)) {
        mkdirSync(dir);
        if (dir.endsWith(containerId)) made.push(dir);
      }
      if (hierarchy.name === 'cpuset') {
        // A new cpuset cgroup starts empty; its parent's mems, and the node's cpus for the pod.
        const mems = readFileSync(`${dir}/../cpuset.mems`, 'utf8').trim();
        writeCgroupFile(`${dir}/cpuset.mems`, mems);
        writeCgroupFile(`${dir}/cpuset.cpus`, dir.endsWith(containerId) ? cpus : readFileSync(`${dir}/../cpuset.cpus`, 'utf8').trim());
      }
    }
  }
  return made;
}

function writeCgroupFile(file: string, value: string): void {
  if (readFileSync(file, 'utf8').trim() !== value) writeFileSync(file, value);
}

/** How long a pod's cgroup may take to empty after its init died. */
const CGROUP_EMPTY_TIMEOUT_MS = 2_000;

/**
 * Removes the pod's cgroups, each once empty. When the pod's init dies the kernel kills the rest of
 * its pid namespace, but those processes leave the cgroup a little later: rmdir answers EBUSY until
 * then, so it is retried rather than leaving a cgroup behind for the next measurement.
 */
export async function removeCgroups(dirs: string[]): Promise<void> {
  const deadline = performance.now() + CGROUP_EMPTY_TIMEOUT_MS;
  for (const dir of dirs) {
    for (;;) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        // Already gone, or still busy past the deadline: cleanup's sweep of migbench's cgroups catches the latter.
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || performance.now() > deadline) break;
        await sleep(10);
      }
    }
  }
}

/** Every cgroup directory a container of this id has (v1: each hierarchy; v2: one). */
export function podCgroups(containerId: string): string[] {
  if (existsSync(`${CGROUP_ROOT}/cgroup.controllers`)) return [`${CGROUP_ROOT}/${CGROUP_PARENT}/${containerId}`].filter(existsSync);
  const dirs: string[] = [];
  for (const entry of existsSync(CGROUP_ROOT) ? readdirSync(CGROUP_ROOT) : []) {
    const dir = `${CGROUP_ROOT}/${entry}/${CGROUP_PARENT}/${containerId}`;
    if (existsSync(dir)) dirs.push(dir);
  }
  return dirs;
}
