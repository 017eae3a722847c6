// The real-node cluster (`migbench cluster`: control plane + worker-a/worker-b, or N workers) for one test file:
// started before its tests, stopped after them, with a scratch directory. Its names are fixed (one
// per host), so real-node test files run one at a time.
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { writeClientKubeconfig } from '../../src/lab/nodes/configs.ts';
import { CONTROL_PLANE_DIR } from '../../src/lab/nodes/layout.ts';
import { labWorkerNames, startNodeCluster, stopNodeCluster, type NodeClusterState } from '../../src/lab/nodes/node-cluster.ts';

/** Building the node components on first use takes minutes. */
const START_TIMEOUT_MS = 60 * 60_000;

export interface RealNodeClusterHandle {
  readonly state: NodeClusterState;
  /** A scratch directory of this file's, removed after its tests. */
  readonly base: string;
}

/**
 * `prepare` runs before the cluster starts (e.g. the workloads' host prerequisites); `start` adds
 * options of `migbench cluster start` (`workers`: how many worker nodes, default 2).
 */
export function useRealNodeCluster(
  scratchPrefix: string,
  prepare?: () => Promise<unknown>,
  start: Pick<Parameters<typeof startNodeCluster>[0] & object, 'containerd' | 'runtimeHandler'> & { workers?: number } = {},
): RealNodeClusterHandle {
  let state: NodeClusterState | undefined;
  let base: string | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the real-node cluster is not started: use useRealNodeCluster() at the top of the test file');
    return value;
  };
  beforeAll(async () => {
    await prepare?.();
    const { workers, ...options } = start;
    state = await startNodeCluster({
      ...options,
      ...(workers ? { workers: labWorkerNames(workers) } : {}),
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    base = mkdtempSync(`${tmpdir()}/${scratchPrefix}-`);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await stopNodeCluster();
    if (base) rmSync(base, { recursive: true, force: true });
  }, 120_000);
  return {
    get state() {
      return ready(state);
    },
    get base() {
      return ready(base);
    },
  };
}

/** scenarios/k8s-nodes.yaml with Redis as its only workload (and `strategies` as given, else its own), written to `file`. */
export function redisNodesScenario(file: string, strategies?: string): string {
  return nodesScenario(file, ['redis'], strategies);
}

/** scenarios/k8s-nodes.yaml with `workloads` as its workloads (and `strategies` as given, else its own), written to `file`. */
export function nodesScenario(file: string, workloads: readonly string[], strategies?: string): string {
  const list = workloads.map((w) => `  - type: ${w}\n`).join('');
  let text = readFileSync('scenarios/k8s-nodes.yaml', 'utf8').replace(/^workloads:[\s\S]*?^strategies:/m, `workloads:\n${list}strategies:`);
  if (strategies) text = text.replace(/^strategies:[\s\S]*?^repetitions:.*$/m, `strategies:\n${strategies}`);
  writeFileSync(file, text);
  return file;
}

/** A budget that allows no disruption of Redis: a drain waits at the Eviction API (429, retried) with its node cordoned. */
export const REDIS_NO_DISRUPTION = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'migbench-test-no-disruption', namespace: 'migbench' },
  spec: { minAvailable: 1, selector: { matchLabels: { app: 'migbench-redis' } } },
};

/** A kubeconfig of the lab's with its own client certificate (CN = user), for the API server and the kubelets alike; the user has only what a test binds. */
export async function labUserKubeconfig(cluster: RealNodeClusterHandle, user: string): Promise<string> {
  const { state, base } = cluster;
  const pki = join(CONTROL_PLANE_DIR, 'pki');
  const file = await writeClientKubeconfig('openssl', pki, join(base, user), user, user, [], state.controlPlane.ports.apiServer);
  // Written for the nodes (the bridge address); from this host the API server is where the admin's kubeconfig says.
  const config = parseYaml(readFileSync(file, 'utf8'));
  for (const c of config.clusters) c.cluster.server = state.server;
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}
