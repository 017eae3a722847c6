// What the real nodes leave on the host besides the network, and how to find and remove it without
// a state file (after a kill -9 of migbench or of the nodes themselves): their processes (found in
// /proc by their binary in the node cache and a cluster path on their command line), the pods'
// processes (found by cgroup: every pod lives under its node's cgroupRoot /mbk-<node>), the mounts
// under the cluster's directories, the cgroups, and the host sysctls kubelet rewrites.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_CACHE_DIR } from '../build/node-build.ts';
import { exec } from '../../system/exec.ts';
import { processAlive } from '../../system/processes.ts';
import { CLUSTER_DATA_DIR, CLUSTER_RUN_DIR, KUBELET_HOST_SYSCTLS, NAME_PREFIX, SAVED_SYSCTLS_FILE, netnsPath, type NodeLayout } from './layout.ts';
import { findProcesses } from '../../system/processes.ts';
import { PROVISIONER_PROGRAM } from './lab-storage.ts';
import { isRespawnLoop, RESPAWN_LOOP, respawnCommand } from './respawn.ts';

export interface NodeProcess {
  /** kubelet, kube-proxy, containerd, containerd-shim-runc-v2, registry, shared-dir-provisioner, migbench-respawn (a loop) */
  name: string;
  pid: number;
}

/**
 * Marks containerd's respawn loop (respawn.ts) and containerd in their environments, so
 * `migbench agent install --runtime-handler` knows containerd is restarted when it restarts it
 * (agent/runtime_handler.go checks both processes).
 */
const CONTAINERD_RESPAWN_ENV = 'MIGBENCH_CONTAINERD_RESPAWN';

/**
 * Starts `binary` in the node's network namespace, in its own session (the daemons outlive
 * migbench); with `respawn`, under the respawn loop (respawn.ts), marked for the agent as
 * containerd's. nsenter --net, not `ip netns exec`: that one also makes a new mount namespace, and
 * kubelet must see the mounts its containerd makes (volumes, rootfs) and the other way round.
 */
export function launchInNode(
  node: NodeLayout,
  name: string,
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: { respawn?: boolean } = {},
): { pid: number; exited: Promise<string> } {
  const log = openSync(join(node.logDir, `${node.name}-${name}.log`), 'a');
  const command = options.respawn ? respawnCommand(binary, args) : [binary, ...args];
  const child = spawn('nsenter', [`--net=${netnsPath(node)}`, '--', ...command], {
    detached: true,
    stdio: ['ignore', log, log],
    env: options.respawn ? { ...env, [CONTAINERD_RESPAWN_ENV]: '1' } : env,
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${binary}`);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`${node.name}: ${name} exited (${signal ?? `exit ${code}`})`));
    child.once('error', (err) => resolve(`${node.name}: ${name} could not be started: ${err.message}`));
  });
  child.unref();
  return { pid: child.pid, exited };
}

export function nodeLogTail(node: NodeLayout, name: string, lines = 12): string {
  try {
    const text = readFileSync(join(node.logDir, `${node.name}-${name}.log`), 'utf8');
    return text
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `  ${node.name} ${name}: ${l}`)
      .join('\n');
  } catch {
    return `  (no log ${join(node.logDir, `${node.name}-${name}.log`)})`;
  }
}

/**
 * Node daemons and shims: a binary from the node cache whose command line names a cluster path; the
 * lab's shared-dir provisioner, a Node.js process known by its program (lab-storage.ts); and the
 * respawn loops that run containerd and the provisioner, shells known by their $0 (respawn.ts).
 */
export function nodeProcesses(): NodeProcess[] {
  // By the program's place in the tree, not its full path: one started from another checkout of migbench is found too.
  const provisioner = (args: string[]) => args[1]?.endsWith(PROVISIONER_PROGRAM) === true;
  return findProcesses((binary) => binary.startsWith(`${NODE_CACHE_DIR}/`) || /\/node$/.test(binary) || /\/(sh|dash|bash)$/.test(binary))
    .filter(({ binary, args }) => binary.startsWith(`${NODE_CACHE_DIR}/`) || provisioner(args) || isRespawnLoop(args))
    .filter(({ args }) => args.some((a) => a.includes(CLUSTER_RUN_DIR) || a.includes(CLUSTER_DATA_DIR)))
    .map(({ binary, pid, args }) => ({
      name: provisioner(args) ? 'shared-dir-provisioner' : isRespawnLoop(args) ? RESPAWN_LOOP : (binary.split('/').at(-1) ?? binary),
      pid,
    }));
}

/** The cgroup v1 hierarchies (or the v2 root) in which kubelet makes its cgroupRoot. */
function cgroupHierarchies(withUnified = false): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return ['/sys/fs/cgroup'];
  // On a hybrid host runc also places containers in the (controller-less) unified tree.
  return readdirSync('/sys/fs/cgroup')
    .map((d) => join('/sys/fs/cgroup', d))
    .filter((d) => existsSync(join(d, 'cgroup.procs')) && (withUnified || d !== '/sys/fs/cgroup/unified'));
}

/**
 * Every process in the nodes' cgroups (the pods' containers, their shims' children); with `only`,
 * those of one node, or of one pod (its cgroup is pod<uid> under the node's cgroupRoot).
 */
export function podProcesses(only?: { node: NodeLayout; podUid?: string }): number[] {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.add(Number(line));
      for (const d of readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) walk(join(dir, d.name));
    } catch {
      /* removed meanwhile */
    }
  };
  const podDir = only?.podUid ? `pod${only.podUid}` : undefined;
  const walkPods = (dir: string) => {
    if (!podDir) return walk(dir);
    try {
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        if (!d.isDirectory()) continue;
        if (d.name === podDir) walk(join(dir, d.name));
        else walkPods(join(dir, d.name));
      }
    } catch {
      /* removed meanwhile */
    }
  };
  for (const h of cgroupHierarchies()) {
    for (const d of readdirSync(h)) if (only ? `/${d}` === only.node.cgroupRoot : d.startsWith(`${NAME_PREFIX}-`)) walkPods(join(h, d));
  }
  return [...pids];
}

/** kubelet needs its cgroupRoot to exist in every hierarchy; cpuset's must get cpus and mems first. */
export function createCgroupRoot(node: NodeLayout): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(h, node.cgroupRoot);
    if (existsSync(dir)) continue;
    // mkdir in a cgroup file system: the kernel fills the directory.
    mkdirSync(dir);
    if (h.endsWith('/cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(h, f), 'utf8'));
    }
  }
}

/**
 * Ends every process of the nodes: the respawn loops first (containerd's and the provisioner's), so
 * nothing they ran is started again; then the API's clients (kubelet, kube-proxy, the provisioner),
 * the pods, the shims and containerd, and last the lab's registry.
 */
export async function killNodeProcesses(): Promise<string[]> {
  const stopped: string[] = [];
  const end = async (pids: number[], graceMs: number) => {
    for (const pid of pids) signal(pid, 'SIGTERM');
    const deadline = performance.now() + graceMs;
    while (pids.some(processAlive) && performance.now() < deadline) await sleep(50);
    for (const pid of pids.filter(processAlive)) signal(pid, 'SIGKILL');
    while (pids.some(processAlive)) await sleep(20);
  };
  const named = (names: string[]) => nodeProcesses().filter((p) => names.includes(p.name));
  // A step of its own, waited for: a loop still alive when its program exits would start it again.
  // (A loop's shell dies of SIGTERM at once, also while it waits for its program, which lives on.)
  const loops = named([RESPAWN_LOOP]);
  await end(
    loops.map((p) => p.pid),
    5000,
  );
  stopped.push(...loops.map((p) => `${p.name} (pid ${p.pid})`));
  const clients = named(['kubelet', 'kube-proxy', 'shared-dir-provisioner']);
  await end(
    clients.map((p) => p.pid),
    5000,
  );
  stopped.push(...clients.map((p) => `${p.name} (pid ${p.pid})`));
  // The pods get no grace here: stop means the cluster is gone (their owners drained them before if they wanted).
  for (let round = 0; round < 20; round++) {
    const pods = podProcesses();
    if (pods.length === 0) break;
    if (round === 0) stopped.push(`${pods.length} pod processes`);
    for (const pid of pods) signal(pid, 'SIGKILL');
    await sleep(100);
  }
  const runtime = named(['containerd-shim-runc-v2', 'containerd']);
  await end(
    runtime.map((p) => p.pid),
    5000,
  );
  stopped.push(...runtime.map((p) => `${p.name} (pid ${p.pid})`));
  // The lab's registry (lab-registry.ts), last: nothing pulls any more.
  const registry = named(['registry']);
  await end(
    registry.map((p) => p.pid),
    5000,
  );
  stopped.push(...registry.map((p) => `${p.name} (pid ${p.pid})`));
  return stopped;
}

/** Unmounts everything under the cluster's directories, deepest first (pod volumes, rootfs overlays, shm, pod netns). */
export async function unmountClusterMounts(): Promise<string[]> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((m) => m.startsWith(`${CLUSTER_RUN_DIR}/`) || m.startsWith(`${CLUSTER_DATA_DIR}/`) || m === CLUSTER_RUN_DIR || m === CLUSTER_DATA_DIR);
  const unique = [...new Set(mounts)].sort((a, b) => b.length - a.length);
  for (const m of unique) {
    // A mount may be stacked more than once; -l for one still busy (its processes are gone, the kernel finishes it).
    for (let i = 0; i < 5; i++) {
      if ((await exec('umount', [m], { allowFailure: true })).exitCode !== 0) {
        await exec('umount', ['-l', m], { allowFailure: true });
        break;
      }
      if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${m} `)) break;
    }
  }
  return unique.map((m) => `mount ${m}`);
}

/** Removes the nodes' cgroup roots and everything in them, deepest first. */
export async function removeNodeCgroups(): Promise<string[]> {
  const removed: string[] = [];
  const removeTree = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) removeTree(join(dir, d.name));
    rmdirSafe(dir);
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    let left = 0;
    for (const h of cgroupHierarchies(true)) {
      for (const d of readdirSync(h)) {
        if (!d.startsWith(`${NAME_PREFIX}-`)) continue;
        removeTree(join(h, d));
        if (existsSync(join(h, d))) left++;
        else if (attempt === 0 || !removed.includes(`cgroup ${d}`)) removed.push(`cgroup ${d}`);
      }
    }
    if (left === 0) break;
    await sleep(100);
  }
  return [...new Set(removed)];
}

/** Saves the host sysctls kubelet rewrites, once (a second start must not save kubelet's values). */
export async function saveHostSysctls(): Promise<void> {
  if (existsSync(SAVED_SYSCTLS_FILE)) return;
  const values = Object.fromEntries(KUBELET_HOST_SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));
  await writeFile(SAVED_SYSCTLS_FILE, `${JSON.stringify(values, null, 2)}\n`);
}

export async function restoreHostSysctls(): Promise<string[]> {
  let values: Record<string, string>;
  try {
    values = JSON.parse(await readFile(SAVED_SYSCTLS_FILE, 'utf8')) as Record<string, string>;
  } catch {
    return [];
  }
  const restored: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const now = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
    if (now !== value) {
      await writeFile(`/proc/sys/${key}`, value);
      restored.push(`sysctl ${key.replaceAll('/', '.')} ${now} → ${value}`);
    }
  }
  await rm(SAVED_SYSCTLS_FILE, { force: true });
  return restored;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

function rmdirSafe(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* busy or gone: retried by the caller */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
