// `migbench cleanup`: removes everything migbench created on this host, found by name. Safe to run
// at any time when no run is in progress; does nothing on a clean host.
import { cleanupLocalHost, otherLockHolder } from '../platforms/local/cleanup.ts';
import { findCriu } from '../setup/criu-detect.ts';
import { run } from '../system/exec.ts';
import { CommandFailure, EXIT_USAGE } from './exit-codes.ts';
import { requireRoot } from './root.ts';
import { KubeApi } from '../platforms/kubernetes/api.ts';
import { apiStatus, ClusterError, connectCluster, describeApiError, preflight } from '../platforms/kubernetes/cluster.ts';
import { cleanupKubernetes } from '../platforms/kubernetes/cleanup.ts';
import { readNodeClusterState } from '../lab/nodes/node-cluster.ts';
import { ClusterNodeCheckpoints } from '../lab/nodes/node-checkpoints.ts';

const DEFAULT_STORE = '/var/lib/migbench/store';

async function which(tool: string): Promise<string> {
  return (await run('sh', ['-c', `command -v ${tool} || true`])) || tool;
}

export interface KubernetesCleanupArgs {
  kubeconfig?: string;
  context?: string;
  namespace: string;
}

/** `cleanup --platform kubernetes`: what migbench created in the namespace, and its cordons (needs no root); on `migbench cluster` nodes also kubelet-checkpoint's files and images. */
export async function cleanupKubernetesCommand(args: KubernetesCleanupArgs): Promise<number> {
  let api: KubeApi;
  try {
    const cluster = connectCluster(args);
    await preflight(cluster);
    api = new KubeApi(cluster, { dryRun: false, print: () => undefined });
  } catch (err) {
    if (err instanceof ClusterError) throw new CommandFailure(err.message.replace(/kubernetes\.kubeconfig \(or --kubeconfig\)/g, '--kubeconfig').replace(/kubernetes\.(kubeconfig|context|namespace)/g, '--$1'), EXIT_USAGE);
    throw err;
  }
  let removed: string[];
  try {
    removed = await cleanupKubernetes(api);
  } catch (err) {
    if (apiStatus(err) === 403) throw new CommandFailure(`migbench cleanup: not allowed in namespace ${args.namespace} (${describeApiError(err)}); bind the migbench ClusterRole (deploy/kubernetes/clusterrole.yaml) there`, EXIT_USAGE);
    throw err;
  }
  // On this host's `migbench cluster` nodes, kubelet-checkpoint's archives and images of a run that was killed.
  const state = await readNodeClusterState();
  if (state) removed.push(...(await new ClusterNodeCheckpoints(state.binaries.ctr, state.nodes.map((n) => n.name)).removeLeftovers()));
  process.stdout.write(removed.length === 0 ? 'migbench cleanup: nothing to remove\n' : `migbench cleanup: removed\n${removed.map((r) => `  ${r}`).join('\n')}\n`);
  return 0;
}

export async function cleanupCommand(args: { stores: string[]; commandLine: string }): Promise<number> {
  requireRoot(args.commandLine);
  const holder = otherLockHolder();
  if (holder !== undefined) {
    throw new CommandFailure(`a migbench run (pid ${holder}) is in progress; stop it first (Ctrl-C lets it clean up itself)`, EXIT_USAGE);
  }
  const removed = await cleanupLocalHost({
    runc: await which('runc'),
    iptables: await which('iptables'),
    ip: await which('ip'),
    criu: (await findCriu())?.path,
    checkpointDirs: [DEFAULT_STORE, ...args.stores],
  });
  process.stdout.write(removed.length === 0 ? 'migbench cleanup: nothing to remove\n' : `migbench cleanup: removed\n${removed.map((r) => `  ${r}`).join('\n')}\n`);
  return 0;
}
