// A real Kubernetes control plane on 127.0.0.1, for the kubernetes platform's tests and for trying a
// scenario without a cluster: etcd, kube-apiserver (RBAC + Node authorization, client certificates),
// kube-controller-manager (ReplicaSets, disruption budgets and eviction, namespaces, garbage
// collection, service accounts and their tokens), kube-scheduler, and kwok, which plays the kubelets
// of fake nodes (they turn Ready and keep a lease; their pods turn Running+Ready and go away when
// deleted). Nothing runs in the pods: only the control plane's behaviour is real.
//
// This file starts an instance and reports its status; the pieces: sim-certificates.ts (PKI and
// kubeconfigs), sim-command-lines.ts, sim-nodes.ts (the fake nodes and kwok), sim-processes.ts
// (launch, find, stop), sim-readiness.ts; the binaries are built by lab/build/control-plane-build.ts.
//
// Each instance lives in one directory (certificates, etcd's data, logs, kubeconfigs, state.json with
// the pids). Every process is started in its own process group and refers to that directory on its
// command line, so `stopSimCluster(dir)` finds and ends them all even when state.json is gone (a
// crash half-way through a start). Nothing listens on anything but 127.0.0.1.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Progress } from '../../setup/apt.ts';
import { ensureControlPlane, type ControlPlane } from '../build/control-plane-build.ts';
import { ensureOpenssl, kubeconfigPath, pkiPaths, writeKubeconfigs, writePki } from './sim-certificates.ts';
import { apiServerArgs, controllerManagerArgs, etcdArgs, freeLoopbackPorts, schedulerArgs, type SimClusterPorts } from './sim-command-lines.ts';
import { CONTROL_PLANE_NODE, DEFAULT_WORKERS, fakeNodes, kwokArgs, nodesReady } from './sim-nodes.ts';
import {
  SIM_CLUSTER_DIR,
  SimClusterError,
  launchDaemon,
  logTail,
  simClusterProcesses,
  stopSimCluster,
  type Launched,
  type SimProcess,
} from './sim-processes.ts';
import { apiReady, etcdHealthy, healthz, waitFor } from './sim-readiness.ts';

// What users of the sim cluster (the sim-cluster command, the tests) reach through this file.
export { kubeconfigPath, writeImpersonatingKubeconfig } from './sim-certificates.ts';
export { CONTROL_PLANE_NODE, DEFAULT_WORKERS } from './sim-nodes.ts';
export {
  reapAbandonedSimClusters,
  SIM_CLUSTER_DIR,
  SIM_CLUSTER_TEST_ROOT,
  SimClusterError,
  simClusterProcesses,
  stopSimCluster,
  type SimProcess,
} from './sim-processes.ts';

export interface SimClusterOptions {
  /** Where the instance lives; default /run/migbench-sim. */
  dir?: string;
  /** Worker node names; default worker-a, worker-b (plus the tainted control-plane node). */
  workers?: readonly string[];
  /** For tests: the instance counts as abandoned once this process is gone. */
  ownerPid?: number;
  progress?: Progress;
  /** Aborting it (Ctrl-C) stops what was started so far and rejects. */
  signal?: AbortSignal;
}

export interface SimClusterState {
  dir: string;
  /** Admin kubeconfig (system:masters; it may impersonate any user to test RBAC). */
  kubeconfig: string;
  server: string;
  ports: SimClusterPorts;
  nodes: string[];
  processes: SimProcess[];
  versions: ControlPlane['versions'];
  ownerPid?: number;
  startedAt: string;
  /** From the first process started until every node was Ready, in ms. */
  startupMs?: number;
}

const stateFile = (dir: string) => join(dir, 'state.json');

// ---------------------------------------------------------------------------------------------
// Start

/**
 * Starts a control plane (building it first on first use) and returns once the API server is ready,
 * every node is Ready and schedulable and the default service account exists. A previous instance in
 * the same directory is stopped first. On failure everything started is stopped again.
 */
export async function startSimCluster(options: SimClusterOptions = {}): Promise<SimClusterState> {
  const progress = options.progress ?? (() => undefined);
  const binaries = await ensureControlPlane(progress, { verbose: process.env.MIGBENCH_VERBOSE === '1' });
  const openssl = await ensureOpenssl(progress);
  try {
    return await startOnce(options, binaries, openssl, progress);
  } catch (err) {
    // The free ports are picked before the daemons bind them: another process may take one between.
    if (!(err instanceof SimClusterError && /address already in use/.test(err.message)) || options.signal?.aborted) throw err;
    progress('migbench sim-cluster: a port was taken meanwhile; starting again on other ports');
    return startOnce(options, binaries, openssl, progress);
  }
}

async function startOnce(options: SimClusterOptions, binaries: ControlPlane, openssl: string, progress: Progress): Promise<SimClusterState> {
  const dir = options.dir ?? SIM_CLUSTER_DIR;
  const workers = options.workers ?? DEFAULT_WORKERS;
  await stopSimCluster(dir);

  await mkdir(join(dir, 'logs'), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'pki'), { recursive: true, mode: 0o700 });
  const started = performance.now();
  const pki = await writePki(openssl, join(dir, 'pki'));
  const ports = await freeLoopbackPorts();
  const server = `https://127.0.0.1:${ports.apiServer}`;
  const kubeconfigs = await writeKubeconfigs(dir, server, pki);
  const state: SimClusterState = {
    dir,
    kubeconfig: kubeconfigPath(dir),
    server,
    ports,
    nodes: [CONTROL_PLANE_NODE, ...workers],
    processes: [],
    versions: binaries.versions,
    ...(options.ownerPid !== undefined ? { ownerPid: options.ownerPid } : {}),
    startedAt: new Date().toISOString(),
  };
  const launched: Launched[] = [];
  const launch = async (name: string, binary: string, args: string[]) => {
    const l = launchDaemon(dir, name, binary, args);
    launched.push(l);
    state.processes.push({ name, pid: l.pid, binary });
    // Written after every start: a crash half-way leaves the pids for the next stop.
    await writeFile(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
    return l;
  };
  // Ends the waits of a start that failed (or was interrupted), so no check keeps polling after it.
  const giveUp = new AbortController();
  const interrupted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new SimClusterError('migbench sim-cluster: interrupted'));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    giveUp.signal.addEventListener('abort', () => options.signal?.removeEventListener('abort', onAbort), { once: true });
  });
  interrupted.catch(() => undefined);
  // A step ends when its check passes, or as soon as any component exits (with that component's log).
  const step = async (what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> => {
    const t0 = performance.now();
    const exits = launched.map((l) =>
      l.exited.then((why): never => {
        throw new SimClusterError(`migbench sim-cluster: ${l.name} ${why}\n${logTail(dir, l.name)}`);
      }),
    );
    const done = waitFor(what, timeoutMs, check, giveUp.signal);
    const racers = [done, ...exits, interrupted];
    // Whichever loses the race must not end the process as an unhandled rejection later.
    for (const p of racers) p.catch(() => undefined);
    await Promise.race(racers);
    progress(`migbench sim-cluster: ${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  };

  try {
    await launch('etcd', binaries.etcd, etcdArgs(dir, ports));
    await step('etcd ready', 60_000, () => etcdHealthy(ports.etcdClient));
    await launch('kube-apiserver', binaries.kubeApiserver, apiServerArgs(dir, ports, pki));
    await step('kube-apiserver ready', 180_000, () => apiReady(server, pki));
    await launch('kube-controller-manager', binaries.kubeControllerManager, controllerManagerArgs(dir, ports, pki, kubeconfigs.controllerManager));
    await launch('kube-scheduler', binaries.kubeScheduler, schedulerArgs(dir, ports, kubeconfigs.scheduler));
    await launch('kwok', binaries.kwok, kwokArgs(binaries, kubeconfigs.kwok));

    const core = kubeConfigFor(state.kubeconfig).makeApiClient(CoreV1Api);
    for (const node of fakeNodes(workers)) await core.createNode({ body: node });
    await step(`nodes Ready and schedulable: ${state.nodes.join(', ')}`, 120_000, () => nodesReady(core, state.nodes));
    await step('service account default/default created', 60_000, () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(
        () => true,
        () => false,
      ),
    );
    await step(
      'kube-controller-manager and kube-scheduler /healthz ok',
      60_000,
      async () => (await healthz(ports.controllerManager)) && (await healthz(ports.scheduler)),
    );
    state.startupMs = performance.now() - started;
    await writeFile(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
    giveUp.abort();
    for (const l of launched) l.detach();
    return state;
  } catch (err) {
    giveUp.abort();
    for (const l of launched) l.detach();
    const message = err instanceof Error ? err.message : String(err);
    // Logs are read before stop removes the directory.
    const logs = message.includes('\n  ') ? '' : `\n${launched.map((l) => logTail(dir, l.name, 5)).join('\n')}`;
    await stopSimCluster(dir);
    throw new SimClusterError(`${message.startsWith('migbench') ? message : `migbench sim-cluster: start failed: ${message}`}${logs}`);
  }
}

function kubeConfigFor(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

export interface SimClusterStatus {
  state?: SimClusterState;
  running: SimProcess[];
  /** The API server answered /readyz with "ok". */
  apiReady: boolean;
}

export async function simClusterStatus(dir: string = SIM_CLUSTER_DIR): Promise<SimClusterStatus> {
  const running = simClusterProcesses(dir);
  let state: SimClusterState | undefined;
  try {
    state = JSON.parse(await readFile(stateFile(dir), 'utf8')) as SimClusterState;
  } catch {
    state = undefined;
  }
  const apiReadyNow = state ? await apiReady(state.server, pkiPaths(join(dir, 'pki'))).catch(() => false) : false;
  return { ...(state ? { state } : {}), running, apiReady: apiReadyNow };
}
