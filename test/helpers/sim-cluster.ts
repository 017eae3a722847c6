// One real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) per
// test file, on 127.0.0.1: started before the file's tests, stopped after them. Each test process has
// its own instance under /run/migbench-sim-tests/<pid>/, so two test runs side by side (or a
// `migbench sim-cluster start` instance) do not meet; instances of killed test runs are removed first.
import { afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import {
  SIM_CLUSTER_TEST_ROOT,
  reapAbandonedSimClusters,
  startSimCluster,
  stopSimCluster,
  type SimClusterOptions,
  type SimClusterState,
} from '../../src/lab/sim/sim-cluster.ts';

/** Building the control plane on first use takes minutes (the CI builds it before `npm test`). */
const START_TIMEOUT_MS = 45 * 60_000;

export interface SimClusterHandle {
  /** The admin kubeconfig (user migbench-admin, group system:masters). */
  readonly kubeconfig: string;
  readonly state: SimClusterState;
}

/**
 * Starts a sim cluster in beforeAll and stops it in afterAll; the handle's fields are readable from
 * beforeAll on (of this or a later hook) and in the tests.
 */
export function useSimCluster(options: Pick<SimClusterOptions, 'workers'> = {}): SimClusterHandle {
  const dir = join(SIM_CLUSTER_TEST_ROOT, String(process.pid));
  let state: SimClusterState | undefined;
  const handle: SimClusterHandle = {
    get kubeconfig() {
      return started().kubeconfig;
    },
    get state() {
      return started();
    },
  };
  const started = (): SimClusterState => {
    if (!state) throw new Error('the sim cluster is not started: use useSimCluster() at the top of the test file and read it in hooks or tests');
    return state;
  };
  beforeAll(async () => {
    const reaped = await reapAbandonedSimClusters();
    if (reaped.length > 0) process.stderr.write(`sim-cluster: stopped abandoned test instances: ${reaped.join(', ')}\n`);
    state = await startSimCluster({ ...options, dir, ownerPid: process.pid, progress: (line) => process.stderr.write(`${line}\n`) });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await stopSimCluster(dir);
  }, 60_000);
  return handle;
}
