// The sim cluster's processes: each daemon started in its own process group with its output in
// <instance>/logs/<name>.log, an instance's processes found through /proc (so a lost state.json does
// not matter), and stopped in order — clients of the API server, the API server, etcd.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTROL_PLANE_CACHE_DIR } from '../build/control-plane-build.ts';
import { processAlive } from '../../system/processes.ts';
import { findProcesses } from '../../system/processes.ts';

/** The instance `migbench sim-cluster start` runs (not under /run/migbench/, which every local run deletes). */
export const SIM_CLUSTER_DIR = '/run/migbench-sim';
/** Test instances, one per test process: /run/migbench-sim-tests/<pid of the vitest worker>/. */
export const SIM_CLUSTER_TEST_ROOT = '/run/migbench-sim-tests';

export interface SimProcess {
  name: string;
  pid: number;
  binary: string;
}

/** A sim cluster could not be started; the message ends with the last log lines of its components. */
export class SimClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimClusterError';
  }
}

export interface Launched {
  name: string;
  pid: number;
  /** Settles when the process exits while we still watch it (during start). */
  exited: Promise<string>;
  /** Stop watching: the process lives on after this Node process exits. */
  detach: () => void;
}

/** Starts a daemon in its own session (process group = pid), output appended to logs/<name>.log. */
export function launchDaemon(dir: string, name: string, binary: string, args: string[]): Launched {
  const log = openSync(join(dir, 'logs', `${name}.log`), 'a');
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', log, log], cwd: dir });
  closeSync(log);
  if (child.pid === undefined) throw new SimClusterError(`could not start ${binary}`);
  let watching = true;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      if (watching) resolve(`exited (${signal ?? `exit ${code}`}) while the cluster was starting`);
    });
    child.once('error', (err) => resolve(`could not be started: ${err.message}`));
  });
  return {
    name,
    pid: child.pid,
    exited,
    detach: () => {
      watching = false;
      child.unref();
    },
  };
}

export function logTail(dir: string, name: string, lines = 15): string {
  try {
    const text = readFileSync(join(dir, 'logs', `${name}.log`), 'utf8');
    return text
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `  ${name}: ${l}`)
      .join('\n');
  } catch {
    return `  (no log ${join(dir, 'logs', `${name}.log`)})`;
  }
}

/**
 * Processes of this instance: a control-plane binary from the cache whose command line names a path
 * in `dir`. Found through /proc, so a lost or stale state.json does not matter.
 */
export function simClusterProcesses(dir: string): SimProcess[] {
  const prefix = `${dir.replace(/\/+$/, '')}/`;
  return findProcesses((binary) => binary.startsWith(`${CONTROL_PLANE_CACHE_DIR}/`))
    .filter(({ args }) => args.some((a) => a.includes(`=${prefix}`) || a.startsWith(prefix)))
    .map(({ binary, pid }) => ({ name: binary.split('/').at(-1) ?? binary, pid, binary }));
}

/** Stop order: clients of the API server first, the API server before etcd (it would wait on etcd while shutting down). */
const STOP_ORDER: readonly string[][] = [['kwok', 'kube-scheduler', 'kube-controller-manager'], ['kube-apiserver'], ['etcd']];

/**
 * Stops every process of the instance (SIGTERM to its process group, SIGKILL after 10 s), clients
 * before the API server before etcd, and removes its directory. Idempotent; returns what it stopped
 * ("kube-apiserver (pid 123)").
 */
export async function stopSimCluster(dir: string = SIM_CLUSTER_DIR): Promise<string[]> {
  const processes = simClusterProcesses(dir);
  const stage = (p: SimProcess) => {
    const i = STOP_ORDER.findIndex((names) => names.includes(p.name));
    return i === -1 ? STOP_ORDER.length : i;
  };
  for (let i = 0; i <= STOP_ORDER.length; i++) {
    await Promise.all(processes.filter((p) => stage(p) === i).map((p) => stopProcessGroup(p.pid)));
  }
  await rm(dir, { recursive: true, force: true });
  return processes.map((p) => `${p.name} (pid ${p.pid})`);
}

async function stopProcessGroup(pid: number): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
  };
  signalGroup('SIGTERM');
  if (await waitForTeardown(pid, 10_000)) return;
  signalGroup('SIGKILL');
  await waitForTeardown(pid, 10_000);
}

/**
 * Until the process has released everything: a thread-group leader shows as a zombie as soon as its
 * own thread exits, while the other threads (and the listening sockets) may live on a little longer.
 */
async function waitForTeardown(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let threads: number;
    try {
      threads = readdirSync(`/proc/${pid}/task`).length;
    } catch {
      return true;
    }
    if (!processAlive(pid) && threads <= 1) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stops test instances whose owner process is gone (a test run killed before its afterAll). */
export async function reapAbandonedSimClusters(): Promise<string[]> {
  let entries: string[];
  try {
    entries = readdirSync(SIM_CLUSTER_TEST_ROOT);
  } catch {
    return [];
  }
  const stopped: string[] = [];
  for (const entry of entries) {
    const owner = Number(entry);
    if (Number.isInteger(owner) && processAlive(owner)) continue;
    stopped.push(...(await stopSimCluster(join(SIM_CLUSTER_TEST_ROOT, entry))));
  }
  return stopped;
}
