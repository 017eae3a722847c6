// migbench killed with SIGKILL in the middle of a trial on the real-node cluster (`migbench
// cluster`) runs no teardown at all: the trial's Deployment, pod and Service stay, worker-a stays
// cordoned. `migbench cleanup --platform kubernetes` then removes all of it — the objects by their
// managed-by label, the cordon by migbench's annotation — and the nodes' kubelets stop the pod's
// containers: no pod, no shim, no container process is left. The cluster itself keeps running (it is
// infrastructure, like a real cluster: `migbench cluster stop` removes it), and a second cleanup
// finds nothing.
import { expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeProcesses } from '../../../src/lab/nodes/host-state.ts';
import { REDIS_NO_DISRUPTION, redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn, unschedulableNodes } from './cluster-kit.ts';
import { AGENT_NAMESPACE } from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import { argsForAttempt } from '../../helpers/attempt.ts';

const cluster = useRealNodeCluster('migbench-k8s-nodes-kill');

/** Processes whose command line names `text` (the killed run's scenario file: nothing of it may survive). */
function processesNaming(text: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirPids()) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) pids.push(pid);
    } catch {
      /* gone */
    }
  }
  return pids;
}
const readdirPids = () =>
  readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);

it('after a SIGKILL mid-drain, cleanup --platform kubernetes leaves nothing: no object, no cordon, no pod, no container', { timeout: 300_000 }, async () => {
  const { state, base } = cluster;
  const admin = adminClients(state.kubeconfig);
  // A budget that allows no disruption holds the drain at the Eviction API with worker-a cordoned:
  // the kill lands in the middle of the trial, every time.
  await admin.objects.create(REDIS_NO_DISRUPTION);
  const file = redisNodesScenario(join(base, 'killed.yaml'));
  const child = spawn(
    'sh',
    ['bin/migbench', ...argsForAttempt(['run', file, '--strategies', 'drain', '--reps', '1', '--warmup', '0', '--out', join(base, 'killed')])],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((done) => child.on('close', (_, signal) => done(signal)));
  try {
    await eventually('the drain to cordon worker-a', 120_000, async () => (await admin.core.readNode({ name: 'worker-a' })).spec?.unschedulable === true);
    process.kill(-child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await admin.objects.delete(REDIS_NO_DISRUPTION).catch(() => undefined);
  }
  expect(processesNaming(file)).toEqual([]);
  // The kill left the trial behind: this is what cleanup has to remove.
  expect(await unschedulableNodes(admin)).toHaveProperty('worker-a');
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual(expect.arrayContaining(['Deployment/migbench-redis', 'Service/migbench-redis']));
  expect(nodeProcesses().filter((p) => p.name === 'containerd-shim-runc-v2').length, "the killed trial's pod still runs").toBeGreaterThan(0);

  const cleanup = await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', state.kubeconfig, '--namespace', 'migbench']);
  expect(cleanup.code, cleanup.stderr).toBe(0);
  expect(cleanup.stdout).toMatch(/Deployment migbench\/migbench-redis/);
  expect(cleanup.stdout).toMatch(/cordon of node worker-a \(uncordoned\)/);

  expect(await unschedulableNodes(admin)).toEqual({});
  await eventually("the killed trial's objects to be gone", 60_000, async () => (await migbenchObjectsIn(admin, 'migbench')).length === 0);
  // The kubelets stop what ran: no pod anywhere, no shim (one per pod sandbox) on either node.
  // Only the node agents stay (the lab installs them with the cluster, as a user installs them once).
  const podsLeft = async () => (await admin.core.listPodForAllNamespaces()).items.filter((p) => p.metadata?.namespace !== AGENT_NAMESPACE);
  await eventually('every pod but the node agents to be gone from the cluster', 60_000, async () => (await podsLeft()).length === 0);
  const agentPods = (await admin.core.listNamespacedPod({ namespace: AGENT_NAMESPACE })).items.length;
  await eventually(
    "the trial's shims to exit (one is left per node agent)",
    60_000,
    async () => nodeProcesses().filter((p) => p.name === 'containerd-shim-runc-v2').length === agentPods,
  );
  // The cluster is not the run's: it is still up, each node with its kubelet and containerd.
  const daemons = nodeProcesses().map((p) => p.name);
  expect(daemons.filter((n) => n === 'kubelet')).toHaveLength(2);
  expect(daemons.filter((n) => n === 'containerd')).toHaveLength(2);
  const again = await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', state.kubeconfig, '--namespace', 'migbench']);
  expect(again).toMatchObject({ code: 0, stdout: 'migbench cleanup: nothing to remove\n' });
});
