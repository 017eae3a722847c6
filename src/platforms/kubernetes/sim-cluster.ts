// A real Kubernetes control plane on 127.0.0.1, for the kubernetes platform's tests and for trying a
// scenario without a cluster: etcd, kube-apiserver (RBAC + Node authorization, client certificates),
// kube-controller-manager (ReplicaSets, disruption budgets and eviction, namespaces, garbage
// collection, service accounts and their tokens), kube-scheduler, and kwok, which plays the kubelets
// of fake nodes (they turn Ready and keep a lease; their pods turn Running+Ready and go away when
// deleted). Nothing runs in the pods: only the control plane's behaviour is real.
//
// Each instance lives in one directory (certificates, etcd's data, logs, kubeconfigs, state.json with
// the pids). Every process is started in its own process group and refers to that directory on its
// command line, so `stopSimCluster(dir)` finds and ends them all even when state.json is gone (a
// crash half-way through a start). Nothing listens on anything but 127.0.0.1.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { aptInstall, lookPath, type Progress } from '../../setup/apt.ts';
import { CONTROL_PLANE_CACHE_DIR, ensureControlPlane, type ControlPlane } from '../../setup/control-plane-build.ts';
import { exec } from '../../system/exec.ts';
import { processAlive } from '../local/runc.ts';

/** The instance `migbench sim-cluster start` runs (not under /run/migbench/, which every local run deletes). */
export const SIM_CLUSTER_DIR = '/run/migbench-sim';
/** Test instances, one per test process: /run/migbench-sim-tests/<pid of the vitest worker>/. */
export const SIM_CLUSTER_TEST_ROOT = '/run/migbench-sim-tests';
/** kwok manages only nodes with this annotation (a real node joined by mistake is left alone). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const CONTROL_PLANE_NODE = 'control-plane';
export const DEFAULT_WORKERS: readonly string[] = ['worker-a', 'worker-b'];
const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';
const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** The admin user's name in the kubeconfig and its client certificate (group system:masters). */
export const SIM_ADMIN_USER = 'migbench-admin';
const CONTEXT = 'migbench-sim';

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

export interface SimClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
}

export interface SimProcess {
  name: string;
  pid: number;
  binary: string;
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

/** A sim cluster could not be started; the message ends with the last log lines of its components. */
export class SimClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimClusterError';
  }
}

const stateFile = (dir: string) => join(dir, 'state.json');
export const kubeconfigPath = (dir: string = SIM_CLUSTER_DIR) => join(dir, 'kubeconfig');

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
      core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(() => true, () => false),
    );
    await step('kube-controller-manager and kube-scheduler /healthz ok', 60_000, async () => (await healthz(ports.controllerManager)) && (await healthz(ports.scheduler)));
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

function fakeNodes(workers: readonly string[]): V1Node[] {
  const node = (name: string, controlPlane: boolean): V1Node => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        ...(controlPlane ? { [CONTROL_PLANE_ROLE]: '' } : {}),
      },
    },
    spec: controlPlane ? { taints: [{ key: CONTROL_PLANE_ROLE, effect: 'NoSchedule' }] } : {},
  });
  return [node(CONTROL_PLANE_NODE, true), ...workers.map((w) => node(w, false))];
}

/** Ready, and the not-ready taint gone: the node lifecycle controller has seen the heartbeat. */
async function nodesReady(core: CoreV1Api, names: readonly string[]): Promise<boolean> {
  const nodes = (await core.listNode()).items;
  return names.every((name) => {
    const n = nodes.find((x) => x.metadata?.name === name);
    const ready = n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const notReadyTaint = n?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/not-ready') || t.key === 'node.kubernetes.io/unreachable') ?? false;
    return ready && !notReadyTaint;
  });
}

// ---------------------------------------------------------------------------------------------
// Command lines. Every flag that opens a socket names 127.0.0.1.

function etcdArgs(dir: string, p: SimClusterPorts): string[] {
  const client = `http://127.0.0.1:${p.etcdClient}`;
  const peer = `http://127.0.0.1:${p.etcdPeer}`;
  return [
    '--name=sim',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=sim=${peer}`,
    // A throw-away test cluster: losing its data on a power cut costs nothing, fsync costs every write.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

function apiServerArgs(dir: string, p: SimClusterPorts, pki: Pki): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${p.etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${p.apiServer}`,
    `--cert-dir=${join(dir, 'pki')}`,
    `--tls-cert-file=${pki.apiServerCert}`,
    `--tls-private-key-file=${pki.apiServerKey}`,
    `--client-ca-file=${pki.caCert}`,
    // The aggregation layer's front proxy: without it every component logs, forever, that the
    // extension-apiserver-authentication config map has no request-header CA.
    `--requestheader-client-ca-file=${pki.caCert}`,
    `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyCert}`,
    `--proxy-client-key-file=${pki.frontProxyKey}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--authorization-mode=Node,RBAC',
    '--allow-privileged=true',
    // The "kubernetes" service's endpoint would be 127.0.0.1, which Endpoints refuse (loopback).
    '--endpoint-reconciler-type=none',
    '--profiling=false',
    '--v=1',
  ];
}

/** What kube-controller-manager and kube-scheduler share: their API client, and /healthz on loopback. */
function componentArgs(dir: string, name: string, port: number, kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'pki', name)}`,
    // One instance: no leader election to wait for at start.
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
}

function controllerManagerArgs(dir: string, p: SimClusterPorts, pki: Pki, kubeconfig: string): string[] {
  return [
    ...componentArgs(dir, 'kube-controller-manager', p.controllerManager, kubeconfig),
    // Check the nodes' heartbeats every second (default 5 s): new nodes lose their not-ready taint sooner.
    '--node-monitor-period=1s',
    // Each controller acts as its own service account, so RBAC is exercised as in a real cluster.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
  ];
}

function schedulerArgs(dir: string, p: SimClusterPorts, kubeconfig: string): string[] {
  return componentArgs(dir, 'kube-scheduler', p.scheduler, kubeconfig);
}

function kwokArgs(binaries: ControlPlane, kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    // Explicit, so a ~/.kwok/kwok.yaml on the host changes nothing.
    `--config=${binaries.kwokStages}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
    '--node-lease-duration-seconds=40',
    // Pod IPs kwok hands out (nothing is routed to them); --server-address stays unset: no listener.
    '--cidr=10.244.0.0/16',
    '--node-ip=127.0.0.1',
  ];
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Launched {
  name: string;
  pid: number;
  /** Settles when the process exits while we still watch it (during start). */
  exited: Promise<string>;
  /** Stop watching: the process lives on after this Node process exits. */
  detach: () => void;
}

/** Starts a daemon in its own session (process group = pid), output appended to logs/<name>.log. */
function launchDaemon(dir: string, name: string, binary: string, args: string[]): Launched {
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

function logTail(dir: string, name: string, lines = 15): string {
  try {
    const text = readFileSync(join(dir, 'logs', `${name}.log`), 'utf8');
    return text.trimEnd().split('\n').slice(-lines).map((l) => `  ${name}: ${l}`).join('\n');
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
  const found: SimProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      // " (deleted)": the cache was rebuilt while the process ran.
      const binary = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
      if (!binary.startsWith(`${CONTROL_PLANE_CACHE_DIR}/`)) continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!args.some((a) => a.includes(`=${prefix}`) || a.startsWith(prefix))) continue;
      found.push({ name: binary.split('/').at(-1) ?? binary, pid, binary });
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Stop and status

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

// ---------------------------------------------------------------------------------------------
// Readiness checks

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (signal.aborted) throw new SimClusterError(`migbench sim-cluster: ${what}: no longer waited for`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (performance.now() >= deadline) {
      throw new SimClusterError(`migbench sim-cluster: ${what}: not reached after ${timeoutMs / 1000} s${lastError ? ` (last error: ${lastError})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function etcdHealthy(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
  return response.ok && ((await response.json()) as { health?: string }).health === 'true';
}

function apiReady(server: string, pki: Pki): Promise<boolean> {
  return httpsGet(`${server}/readyz`, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) }).then(
    (r) => r.status === 200 && r.body.trim() === 'ok',
  );
}

/** kube-controller-manager's and kube-scheduler's /healthz (self-signed serving certificates, loopback only). */
function healthz(port: number): Promise<boolean> {
  return httpsGet(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false }).then((r) => r.status === 200);
}

function httpsGet(url: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in 2 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Five distinct free ports on 127.0.0.1 (held open together, so no two are the same). */
async function freeLoopbackPorts(): Promise<SimClusterPorts> {
  const servers = await Promise.all(
    Array.from({ length: 5 }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  const [etcdClient, etcdPeer, apiServer, controllerManager, scheduler] = ports as [number, number, number, number, number];
  return { etcdClient, etcdPeer, apiServer, controllerManager, scheduler };
}

// ---------------------------------------------------------------------------------------------
// Certificates and kubeconfigs (openssl; ECDSA P-256)

interface Pki {
  caCert: string;
  caKey: string;
  apiServerCert: string;
  apiServerKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
  adminCert: string;
  adminKey: string;
  frontProxyCert: string;
  frontProxyKey: string;
}

const FRONT_PROXY_CLIENT = 'front-proxy-client';
/** Client identities: the user name is the certificate's CN, the groups its O fields. */
const CLIENTS = {
  admin: { cn: SIM_ADMIN_USER, groups: ['system:masters'] },
  controllerManager: { cn: 'system:kube-controller-manager', groups: [] },
  scheduler: { cn: 'system:kube-scheduler', groups: [] },
  // kwok writes every managed node's and pod's status and the node leases.
  kwok: { cn: 'kwok', groups: ['system:masters'] },
  frontProxy: { cn: FRONT_PROXY_CLIENT, groups: [] },
} as const;
type Client = keyof typeof CLIENTS;

function pkiPaths(pkiDir: string): Pki {
  const at = (name: string) => join(pkiDir, name);
  return {
    caCert: at('ca.crt'),
    caKey: at('ca.key'),
    apiServerCert: at('apiserver.crt'),
    apiServerKey: at('apiserver.key'),
    serviceAccountKey: at('sa.key'),
    serviceAccountPublicKey: at('sa.pub'),
    adminCert: at('admin.crt'),
    adminKey: at('admin.key'),
    frontProxyCert: at('frontProxy.crt'),
    frontProxyKey: at('frontProxy.key'),
  };
}

async function ensureOpenssl(progress: Progress): Promise<string> {
  const found = await lookPath('openssl');
  if (found) return found;
  progress('migbench: installing openssl (apt-get) ...');
  await aptInstall(['openssl']);
  const installed = await lookPath('openssl');
  if (!installed) throw new SimClusterError('migbench sim-cluster: openssl is missing and could not be installed: apt-get install -y openssl');
  return installed;
}

async function writePki(openssl: string, pkiDir: string): Promise<Pki> {
  const pki = pkiPaths(pkiDir);
  const run = (args: string[]) => exec(openssl, args, { cwd: pkiDir, timeoutMs: 30_000 });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(['req', '-x509', '-new', ...ecKey, '-keyout', pki.caKey, '-out', pki.caCert, '-days', '3650', '-subj', '/CN=migbench-sim-ca']);
  const sign = async (name: string, subject: string, extensions: string) => {
    await writeFile(join(pkiDir, `${name}.ext`), `[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n${extensions}\n`);
    await run(['req', '-new', ...ecKey, '-keyout', join(pkiDir, `${name}.key`), '-out', join(pkiDir, `${name}.csr`), '-subj', subject]);
    await run([
      'x509', '-req', '-in', join(pkiDir, `${name}.csr`), '-CA', pki.caCert, '-CAkey', pki.caKey, '-set_serial', `0x${randomSerial()}`,
      '-days', '3650', '-out', join(pkiDir, `${name}.crt`), '-extfile', join(pkiDir, `${name}.ext`), '-extensions', 'v3',
    ]);
  };
  const sans = ['IP:127.0.0.1', 'IP:10.96.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'];
  await sign('apiserver', '/CN=kube-apiserver', `extendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(',')}`);
  for (const [client, id] of Object.entries(CLIENTS)) {
    await sign(client, `/CN=${id.cn}${id.groups.map((g) => `/O=${g}`).join('')}`, 'extendedKeyUsage=clientAuth');
  }
  await run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', pki.serviceAccountKey]);
  await run(['pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPublicKey]);
  return pki;
}

/** 128 random bits, positive (a leading bit of 1 would make the DER integer negative). */
function randomSerial(): string {
  return randomBytes(16).toString('hex').replace(/^[89a-f]/, '1');
}

/** The admin kubeconfig at <dir>/kubeconfig, and one per component (credentials embedded: self-contained files). */
async function writeKubeconfigs(dir: string, server: string, pki: Pki): Promise<Record<'controllerManager' | 'scheduler' | 'kwok', string>> {
  const write = async (file: string, client: Client) => {
    const pkiDir = join(dir, 'pki');
    const b64 = async (path: string) => (await readFile(path)).toString('base64');
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: CONTEXT, cluster: { server, 'certificate-authority-data': await b64(pki.caCert) } }],
      users: [{ name: CLIENTS[client].cn, user: { 'client-certificate-data': await b64(join(pkiDir, `${client}.crt`)), 'client-key-data': await b64(join(pkiDir, `${client}.key`)) } }],
      contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CLIENTS[client].cn, namespace: 'default' } }],
      'current-context': CONTEXT,
    };
    await writeFile(file, stringify(kubeconfig), { mode: 0o600 });
    return file;
  };
  await write(kubeconfigPath(dir), 'admin');
  return {
    controllerManager: await write(join(dir, 'pki', 'kube-controller-manager.kubeconfig'), 'controllerManager'),
    scheduler: await write(join(dir, 'pki', 'kube-scheduler.kubeconfig'), 'scheduler'),
    kwok: await write(join(dir, 'pki', 'kwok.kubeconfig'), 'kwok'),
  };
}

/**
 * A kubeconfig that acts as `user` (the admin impersonating it: `as:` in the kubeconfig, honoured by
 * client-go and @kubernetes/client-node): to test what RBAC lets a ServiceAccount or user do, e.g.
 * "system:serviceaccount:<namespace>:<name>". Written to <dir>/kubeconfig-as-<user>.
 */
export async function writeImpersonatingKubeconfig(dir: string, user: string): Promise<string> {
  const admin = parse(await readFile(kubeconfigPath(dir), 'utf8')) as { users: Array<{ user: Record<string, string> }> };
  for (const u of admin.users) u.user.as = user;
  const file = join(dir, `kubeconfig-as-${user.replace(/[^\w.-]+/g, '_')}`);
  await writeFile(file, stringify(admin), { mode: 0o600 });
  return file;
}
