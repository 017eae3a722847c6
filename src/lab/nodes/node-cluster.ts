// A Kubernetes cluster with real nodes on one host (`migbench cluster start|stop|status`): the
// control plane of sim-cluster.ts (127.0.0.1, with only its tainted kwok control-plane node) and
// two worker nodes, each a network namespace with its own containerd, kubelet and kube-proxy
// (layout.ts names everything). Pods run for real: runc containers in the node's cgroupRoot, on a
// CNI bridge in the node's namespace, reached through kube-proxy's NodePort rules on the node's
// address. The workloads' claims get volumes of the lab's default StorageClass, on a directory both
// nodes see (lab-storage.ts).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { lookPath, type Progress } from '../../setup/apt.ts';
import { ensureCriu } from '../../setup/criu-build.ts';
import { type ContainerdVersion, ensureNodeBinaries, type NodeBinaries } from '../build/node-build.ts';
import { exec } from '../../system/exec.ts';
import { startSimCluster, stopSimCluster, type SimClusterState } from '../sim/sim-cluster.ts';
import { cniConfig, containerdConfig, kubeletConfig, kubeProxyConfig, writeClientKubeconfig, writeServingCertificate } from './configs.ts';
import { createNodeNetwork, removeNodeNetwork } from './host-network.ts';
import { clusterSettingsHostProblems, STOCK_CLUSTER_SETTINGS, type ClusterSettings } from './cluster-settings.ts';
import {
  createCgroupRoot,
  killNodeProcesses,
  launchInNode,
  nodeLogTail,
  nodeProcesses,
  removeNodeCgroups,
  restoreHostSysctls,
  saveHostSysctls,
  unmountClusterMounts,
  type NodeProcess,
} from './host-state.ts';
import { ensureAgentImage } from '../build/agent-image.ts';
import { connectCluster } from '../../platforms/kubernetes/cluster.ts';
import { installLabAgent } from './agent-install.ts';
import { ensureWorkloadImages } from './workload-images.ts';
import { createRuntimeClass, prepareLabRuntimeHandler } from './runtime-handler.ts';
import { LAB_REGISTRY, nodeRegistryConfigPath, startLabRegistry, writeRegistryHosts } from './lab-registry.ts';
import { LAB_STORAGE_CLASS, startLabStorage } from './lab-storage.ts';
import { CLUSTER_DATA_DIR, CLUSTER_RUN_DIR, CONTROL_PLANE_DIR, MAX_NODES, nodeLayout, REAL_NODE_LABEL, SHARED_VOLUME_DIR, type NodeLayout } from './layout.ts';

export const REAL_WORKERS: readonly string[] = ['worker-a', 'worker-b'];
/** `migbench cluster start --workers N`: how many worker nodes the lab may have (each its own netns, containerd, kubelet, kube-proxy). */
export const WORKER_COUNT = { min: 2, max: MAX_NODES } as const;

/** The lab's first `count` worker names: worker-a, worker-b, worker-c, … */
export function labWorkerNames(count: number): string[] {
  if (!Number.isInteger(count) || count < WORKER_COUNT.min || count > WORKER_COUNT.max)
    throw new NodeClusterError(`migbench cluster: --workers ${count}: give a whole number from ${WORKER_COUNT.min} to ${WORKER_COUNT.max}`);
  return Array.from({ length: count }, (_, i) => `worker-${String.fromCharCode('a'.charCodeAt(0) + i)}`);
}
const STATE_FILE = join(CLUSTER_RUN_DIR, 'state.json');

export interface NodeClusterState {
  kubeconfig: string;
  server: string;
  controlPlane: SimClusterState;
  nodes: Array<{ name: string; address: string; podCidr: string; containerdSocket: string; readyMs: number }>;
  /** The lab's image registry, host:port (plain HTTP on the lab network). */
  registry: string;
  /** Whether the nodes have the runtime handler `migbench` (`cluster start --runtime-handler`). */
  runtimeHandler?: boolean;
  binaries: NodeBinaries;
  startedAt: string;
  startupMs: number;
  /** kube-proxy's mode and minSyncPeriod, evented PLEG (cluster-settings.ts); absent in a state file from before them: stock. */
  settings?: ClusterSettings;
}

export class NodeClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeClusterError';
  }
}

/**
 * Builds what is missing, stops a previous instance, starts the control plane and the nodes, and
 * returns once every node is Ready. On failure or abort everything started is removed again.
 */
export async function startNodeCluster(
  options: {
    progress?: Progress;
    signal?: AbortSignal;
    workers?: readonly string[];
    containerd?: ContainerdVersion;
    /** The runtime handler `migbench` (runtime-handler.ts) on every node, and its RuntimeClass. */
    runtimeHandler?: boolean;
    /** kube-proxy's mode and minSyncPeriod, evented PLEG (cluster-settings.ts); default stock. */
    settings?: ClusterSettings;
  } = {},
): Promise<NodeClusterState> {
  const progress = options.progress ?? (() => undefined);
  const settings = options.settings ?? STOCK_CLUSTER_SETTINGS;
  const settingsProblems = await clusterSettingsHostProblems(settings);
  if (settingsProblems.length > 0) throw new NodeClusterError(`migbench cluster: ${settingsProblems.join('; ')}`);
  const binaries = await ensureNodeBinaries(progress, {
    verbose: process.env.MIGBENCH_VERBOSE === '1',
    ...(options.containerd ? { containerd: options.containerd } : {}),
  });
  const openssl = (await lookPath('openssl')) ?? 'openssl';
  // containerd and runc checkpoint and restore with the CRIU on their PATH (the kubelet-checkpoint
  // strategy): the same CRIU ≥ 4.2 the local platform uses, not a distribution's older one.
  const criu = (await ensureCriu(progress)).path;
  await stopNodeCluster();
  const started = performance.now();
  const layouts = (options.workers ?? REAL_WORKERS).map((name, i) => nodeLayout(name, i));
  const exits: Array<Promise<string>> = [];
  const checkAbort = () => {
    if (options.signal?.aborted) throw new NodeClusterError('migbench cluster: interrupted');
  };
  try {
    const controlPlane = await startSimCluster({ dir: CONTROL_PLANE_DIR, workers: [], progress, ...(options.signal ? { signal: options.signal } : {}) });
    checkAbort();
    const apiPort = controlPlane.ports.apiServer;
    await mkdir(join(CLUSTER_RUN_DIR, 'logs'), { recursive: true });
    await mkdir(SHARED_VOLUME_DIR, { recursive: true });
    await saveHostSysctls();
    await createNodeNetwork(layouts, apiPort);
    const registry = await startLabRegistry(binaries.registry);
    exits.push(registry.exited);
    progress(`migbench cluster: registry at http://${LAB_REGISTRY}`);
    const pkiDir = join(CONTROL_PLANE_DIR, 'pki');
    const proxyKubeconfig = await writeClientKubeconfig(openssl, pkiDir, join(CLUSTER_RUN_DIR, 'pki'), 'kube-proxy', 'system:kube-proxy', [], apiPort);
    const images = [binaries.pauseArchive, ...(await ensureWorkloadImages()), (await ensureAgentImage(progress)).archive];
    if (options.runtimeHandler) await prepareLabRuntimeHandler(layouts, binaries, progress);
    const nodeStarts = new Map<string, number>();
    for (const node of layouts) {
      checkAbort();
      const t0 = performance.now();
      nodeStarts.set(node.name, t0);
      exits.push(...(await startNode(node, binaries, criu, images, openssl, pkiDir, proxyKubeconfig, apiPort, progress, settings)));
    }
    const core = coreApi(controlPlane.kubeconfig);
    const readyMs = new Map<string, number>();
    const deadline = performance.now() + 180_000;
    let failed: string | undefined;
    for (const e of exits) void e.then((why) => (failed ??= why));
    while (readyMs.size < layouts.length) {
      checkAbort();
      if (failed) throw new NodeClusterError(`migbench cluster: ${failed}`);
      if (performance.now() > deadline)
        throw new NodeClusterError(
          `migbench cluster: nodes not Ready after 180 s: ${layouts
            .filter((n) => !readyMs.has(n.name))
            .map((n) => n.name)
            .join(', ')}`,
        );
      for (const name of await readyNodes(core)) {
        if (readyMs.has(name) || !nodeStarts.has(name)) continue;
        readyMs.set(name, performance.now() - (nodeStarts.get(name) ?? started));
        progress(`migbench cluster: node ${name} Ready (${((readyMs.get(name) ?? 0) / 1000).toFixed(1)} s after its containerd started)`);
      }
      await sleep(200);
    }
    // The workloads' claims: the lab's default StorageClass and its provisioner (lab-storage.ts).
    const storageStarted = performance.now();
    await startLabStorage(controlPlane.kubeconfig);
    progress(
      `migbench cluster: StorageClass ${LAB_STORAGE_CLASS} (default, ReadWriteMany), its provisioner watching, volumes under ${SHARED_VOLUME_DIR} (${((performance.now() - storageStarted) / 1000).toFixed(1)} s)`,
    );
    // The namespace the scenarios use by default (kubernetes.namespace: migbench), as a cluster admin would create it.
    await core.createNamespace({ body: { metadata: { name: 'migbench' } } }).catch(() => undefined);
    // kubelet-checkpoint's node steps: the node agent, as on any cluster.
    const agentStarted = performance.now();
    await installLabAgent(connectCluster({ kubeconfig: controlPlane.kubeconfig, namespace: 'migbench' }), () => undefined);
    progress(`migbench cluster: node agent ready on every node (${((performance.now() - agentStarted) / 1000).toFixed(1)} s)`);
    if (options.runtimeHandler) await createRuntimeClass(controlPlane.kubeconfig);
    const state: NodeClusterState = {
      kubeconfig: controlPlane.kubeconfig,
      server: controlPlane.server,
      controlPlane,
      nodes: layouts.map((n) => ({
        name: n.name,
        address: n.address,
        podCidr: n.podCidr,
        containerdSocket: n.containerdSocket,
        readyMs: Math.round(readyMs.get(n.name) ?? 0),
      })),
      registry: LAB_REGISTRY,
      runtimeHandler: options.runtimeHandler === true,
      binaries,
      startedAt: new Date().toISOString(),
      settings,
      startupMs: Math.round(performance.now() - started),
    };
    await writeFile(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
    return state;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const logs = layouts.flatMap((n) => ['containerd', 'kubelet', 'kube-proxy'].map((c) => nodeLogTail(n, c, 6))).join('\n');
    await stopNodeCluster();
    throw new NodeClusterError(`${message.startsWith('migbench') ? message : `migbench cluster: start failed: ${message}`}\n${logs}`);
  }
}

async function startNode(
  node: NodeLayout,
  binaries: NodeBinaries,
  criu: string,
  images: string[],
  openssl: string,
  pkiDir: string,
  proxyKubeconfig: string,
  apiPort: number,
  progress: Progress,
  settings: ClusterSettings = STOCK_CLUSTER_SETTINGS,
): Promise<Array<Promise<string>>> {
  for (const dir of [node.runDir, node.dataDir, node.logDir, node.podLogsDir, node.kubeletRoot]) await mkdir(dir, { recursive: true });
  const cniDir = join(node.runDir, 'cni');
  await mkdir(cniDir, { recursive: true });
  await writeFile(join(cniDir, '10-mbk.conflist'), cniConfig(node));
  const containerdToml = join(node.runDir, 'containerd.toml');
  const registryHosts = nodeRegistryConfigPath(node.name);
  await writeRegistryHosts(registryHosts);
  await writeFile(containerdToml, containerdConfig(node, binaries, cniDir, registryHosts));
  createCgroupRoot(node);
  // containerd finds its shim on PATH; the shim gets runc from the runtime's BinaryName, and
  // containerd and runc find `criu` on PATH (a link, as $MIGBENCH_CRIU may name it otherwise).
  const criuDir = join(node.runDir, 'bin');
  await mkdir(criuDir, { recursive: true });
  await rm(join(criuDir, 'criu'), { force: true });
  await symlink(criu, join(criuDir, 'criu'));
  const env = { ...process.env, PATH: `${criuDir}:${join(binaries.containerd, '..')}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  // Under a respawn loop, as systemd runs a user's containerd: `agent install --runtime-handler` restarts it.
  const containerd = launchInNode(node, 'containerd', binaries.containerd, ['--config', containerdToml, '--log-level', 'warn'], env, { respawn: true });
  const ctr = (args: string[], timeoutMs = 60_000) => exec(binaries.ctr, ['--address', node.containerdSocket, ...args], { timeoutMs, allowFailure: true });
  const t0 = performance.now();
  while ((await ctr(['version'], 5000)).exitCode !== 0) {
    if (performance.now() - t0 > 30_000)
      throw new NodeClusterError(
        `migbench cluster: ${node.name}: containerd did not answer on ${node.containerdSocket} within 30 s\n${nodeLogTail(node, 'containerd')}`,
      );
    await sleep(100);
  }
  for (const archive of images) {
    const imported = await ctr(['-n', 'k8s.io', 'images', 'import', '--local', archive], 120_000);
    if (imported.exitCode !== 0) throw new NodeClusterError(`migbench cluster: ${node.name}: importing ${archive} failed: ${imported.stderr.trim()}`);
  }
  progress(`migbench cluster: ${node.name}: containerd up, ${images.length} images imported (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const kubeletDir = join(node.runDir, 'kubelet');
  const kubeletKubeconfig = await writeClientKubeconfig(openssl, pkiDir, kubeletDir, 'kubelet', `system:node:${node.name}`, ['system:nodes'], apiPort);
  const kubeletYaml = join(kubeletDir, 'config.yaml');
  const serving = await writeServingCertificate(openssl, pkiDir, join(kubeletDir, 'pki'), node);
  await writeFile(kubeletYaml, kubeletConfig(node, join(pkiDir, 'ca.crt'), serving, settings));
  const kubelet = launchInNode(node, 'kubelet', binaries.kubelet, [
    `--config=${kubeletYaml}`,
    `--kubeconfig=${kubeletKubeconfig}`,
    `--hostname-override=${node.name}`,
    `--node-ip=${node.address}`,
    `--root-dir=${node.kubeletRoot}`,
    `--cert-dir=${join(kubeletDir, 'pki')}`,
    `--node-labels=${REAL_NODE_LABEL}=true`,
    '--v=1',
  ]);
  const proxyYaml = join(node.runDir, 'kube-proxy.yaml');
  await writeFile(proxyYaml, kubeProxyConfig(node, proxyKubeconfig, settings));
  const proxy = launchInNode(node, 'kube-proxy', binaries.kubeProxy, [`--config=${proxyYaml}`, '--v=1']);
  const withLog = (p: Promise<string>, name: string) => p.then((why) => `${why}\n${nodeLogTail(node, name)}`);
  return [withLog(containerd.exited, 'containerd'), withLog(kubelet.exited, 'kubelet'), withLog(proxy.exited, 'kube-proxy')];
}

function coreApi(kubeconfig: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc.makeApiClient(CoreV1Api);
}

/** Nodes with Ready=True and no not-ready taint left. */
async function readyNodes(core: CoreV1Api): Promise<string[]> {
  const nodes = (await core.listNode().catch(() => ({ items: [] }))).items;
  return nodes
    .filter(
      (n) =>
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
        !n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/not-ready')),
    )
    .map((n) => n.metadata?.name ?? '');
}

/**
 * Removes everything of the cluster, in dependency order, with or without a state file: node
 * processes and pods, mounts, cgroups, network, the control plane, the host sysctls kubelet changed,
 * the directories. Idempotent; returns what it removed.
 */
export async function stopNodeCluster(): Promise<string[]> {
  const removed: string[] = [];
  removed.push(...(await killNodeProcesses()));
  removed.push(...(await unmountClusterMounts()));
  removed.push(...(await removeNodeCgroups()));
  removed.push(...(await removeNodeNetwork()));
  removed.push(...(await stopSimCluster(CONTROL_PLANE_DIR)));
  removed.push(...(await restoreHostSysctls()));
  for (const dir of [CLUSTER_RUN_DIR, CLUSTER_DATA_DIR]) {
    if (!existsSync(dir)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(`directory ${dir}`);
  }
  return removed;
}

export interface NodeClusterStatus {
  state?: NodeClusterState;
  processes: NodeProcess[];
  readyNodes: string[];
}

/** The running cluster's state file (written once its nodes were Ready), if any. */
export async function readNodeClusterState(): Promise<NodeClusterState | undefined> {
  try {
    return JSON.parse(await readFile(STATE_FILE, 'utf8')) as NodeClusterState;
  } catch {
    return undefined;
  }
}

export async function nodeClusterStatus(): Promise<NodeClusterStatus> {
  const state = await readNodeClusterState();
  const ready = state ? await readyNodes(coreApi(state.kubeconfig)) : [];
  return { ...(state ? { state } : {}), processes: nodeProcesses(), readyNodes: ready };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
