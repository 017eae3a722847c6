// The node agent on the lab's real nodes, used as on any cluster: `migbench agent status|uninstall|
// install` through the API server; a kubelet-checkpoint run without it stopped before anything is
// created (exit 2, naming the fix); the target's agent process killed as the checkpoint is taken,
// so the transfer fails: the source resumed, the trial failed in `transfer`, nothing left on either node; and
// the source's agent pod deleted as the archive is written (the transfer retried by its replacement,
// or the source resumed; nothing lost or left either way); and migbench SIGKILLed while a move holds
// the source stopped, then `migbench cleanup`: no stopped process and no pod left once it returns,
// while a trial of a run in another namespace on the same nodes keeps its state. And `install
// --registry-secret/--registry-ca`: a Secret of the wrong type exits 2 and changes nothing; the
// copies reach ready agents (the logins a root-only file on the node); an install without the
// flags removes them.
import { expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CHECKPOINT_IMAGE_PREFIX } from '../../../src/platforms/kubernetes/checkpoint-nodes.ts';
import {
  AGENT_NAME,
  AGENT_NAMESPACE,
  AGENT_REGISTRY_CA,
  AGENT_REGISTRY_SECRET,
  AGENT_SELECTOR,
} from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import { LAB_REGISTRY } from '../../../src/lab/nodes/lab-registry.ts';
import { AgentCheckpointNodes } from '../../../src/platforms/kubernetes/agent/agent-checkpoints.ts';
import { AgentClient } from '../../../src/platforms/kubernetes/agent/agent-client.ts';
import { connectCluster } from '../../../src/platforms/kubernetes/cluster.ts';
import { LAB_AGENT_PATHS } from '../../../src/lab/nodes/agent-install.ts';
import { nodeLayout } from '../../../src/lab/nodes/layout.ts';
import { podProcesses } from '../../../src/lab/nodes/host-state.ts';
import { exec } from '../../../src/system/exec.ts';
import type { K8sObject } from '../../../src/platforms/kubernetes/api.ts';
import { redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn } from './cluster-kit.ts';
import { argsForAttempt } from '../../helpers/attempt.ts';

const cluster = useRealNodeCluster('migbench-node-agent');
const ROOT = join(import.meta.dirname, '..', '..', '..');

const csv = (file: string) => (existsSync(file) ? (parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[]) : []);
const kubeletArchives = (node: string) => {
  const dir = join(nodeLayout(node, node === 'worker-a' ? 0 : 1).kubeletRoot, 'checkpoints');
  return existsSync(dir) ? readdirSync(dir) : [];
};

/** What a kubelet-checkpoint trial could leave on the nodes: checkpoint images, the kubelets' archives, the agents' received archives. */
async function leftOnNodes(): Promise<string[]> {
  const { state } = cluster;
  const left: string[] = [];
  for (const [i, node] of state.nodes.entries()) {
    const images = await exec(state.binaries.ctr, ['--address', nodeLayout(node.name, i).containerdSocket, '-n', 'k8s.io', 'images', 'ls', '-q']);
    left.push(
      ...images.stdout
        .split('\n')
        .filter((l) => l.startsWith(CHECKPOINT_IMAGE_PREFIX))
        .map((l) => `${node.name}: image ${l}`),
    );
    left.push(...kubeletArchives(node.name).map((f) => `${node.name}: archive ${f}`));
  }
  const store = join(LAB_AGENT_PATHS.stateDir, 'store');
  for (const node of existsSync(store) ? readdirSync(store) : []) left.push(...readdirSync(join(store, node)).map((f) => `${node}: received archive ${f}`));
  return left;
}

/** Processes of worker-a's pods stopped by a signal (state T). */
function stoppedOnWorkerA(): number[] {
  return podProcesses({ node: nodeLayout('worker-a', 0) }).filter((pid) => {
    try {
      return / T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
    } catch {
      return false;
    }
  });
}

const kubeconfigArgs = () => ['--kubeconfig', cluster.state.kubeconfig];

/** One Redis kubelet-checkpoint trial as the admin, running in the background (scenario `<name>.yaml`, results in `out`). */
const redisCheckpointRun = (name: string, out: string) =>
  migbenchAsync(
    [
      'run',
      redisNodesScenario(join(cluster.base, `${name}.yaml`), '  - kubelet-checkpoint\nrepetitions: 1'),
      '--warmup',
      '0',
      ...kubeconfigArgs(),
      '--out',
      out,
      '--quiet',
    ],
    240_000,
  );

it('status, uninstall and install through the API server; without the agent a kubelet-checkpoint run exits 2 before creating anything', {
  timeout: 300_000,
}, async () => {
  const status = await migbenchAsync(['agent', 'status', ...kubeconfigArgs()]);
  expect(status.code, status.stderr).toBe(0);
  expect(status.stdout).toMatch(/worker-a: migbench-agent-\S+ ready/);
  expect(status.stdout).toMatch(/worker-b: migbench-agent-\S+ ready/);

  const removed = await migbenchAsync(['agent', 'uninstall', ...kubeconfigArgs()]);
  expect(removed.code, removed.stderr).toBe(0);
  const admin = adminClients(cluster.state.kubeconfig);
  expect((await admin.core.listNamespace()).items.map((n) => n.metadata?.name)).not.toContain(AGENT_NAMESPACE);
  expect((await migbenchAsync(['agent', 'status', ...kubeconfigArgs()])).stdout).toMatch(/not installed/);

  const out = join(cluster.base, 'no-agent');
  const run = await migbenchAsync(
    [
      'run',
      redisNodesScenario(join(cluster.base, 'no-agent.yaml'), '  - kubelet-checkpoint\nrepetitions: 1'),
      '--kubeconfig',
      cluster.state.kubeconfig,
      '--out',
      out,
    ],
    120_000,
  );
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/the node agent \(migbench-agent\) is not installed.*migbench agent install/);
  expect(existsSync(join(out, 'trials.csv'))).toBe(false);
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);

  const installed = await migbenchAsync(['agent', 'install', ...kubeconfigArgs()], 240_000);
  expect(installed.code, installed.stderr).toBe(0);
  expect(installed.stdout).toMatch(/ready on \d+ nodes \(.*worker-a.*\)/);
});

it('install --registry-secret/--registry-ca: a Secret of the wrong type exits 2 changing nothing; the copies reach ready agents, root-only; a plain install removes them', {
  timeout: 300_000,
}, async () => {
  const admin = adminClients(cluster.state.kubeconfig);
  const dockerConfig = JSON.stringify({ auths: { [LAB_REGISTRY]: { auth: Buffer.from('migbench:test-only').toString('base64') } } });
  const testSecrets = { regcred: 'migbench-test-regcred', opaque: 'migbench-test-opaque' };
  await admin.core.createNamespacedSecret({
    namespace: 'default',
    body: { metadata: { name: testSecrets.regcred }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': dockerConfig } },
  });
  await admin.core.createNamespacedSecret({
    namespace: 'default',
    body: { metadata: { name: testSecrets.opaque }, type: 'Opaque', stringData: { password: 'x' } },
  });
  const daemonSet = async () =>
    (await admin.objects.read({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE } })) as K8sObject;
  const copies = async () =>
    [
      await admin.core.readNamespacedSecret({ name: AGENT_REGISTRY_SECRET, namespace: AGENT_NAMESPACE }).then(
        () => 'secret',
        () => undefined,
      ),
      await admin.core.readNamespacedConfigMap({ name: AGENT_REGISTRY_CA, namespace: AGENT_NAMESPACE }).then(
        () => 'ca',
        () => undefined,
      ),
    ].filter(Boolean);
  try {
    const generation = (await daemonSet()).metadata.generation;
    const wrong = await migbenchAsync(['agent', 'install', ...kubeconfigArgs(), '--registry-secret', testSecrets.opaque], 120_000);
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toContain(
      `--registry-secret ${testSecrets.opaque}: Secret default/${testSecrets.opaque} is of type Opaque, not kubernetes.io/dockerconfigjson`,
    );
    expect((await daemonSet()).metadata.generation).toBe(generation);
    expect(await copies()).toEqual([]);

    const ca = join(ROOT, 'test', 'fixtures', 'registry', 'ca.pem');
    const installed = await migbenchAsync(
      ['agent', 'install', ...kubeconfigArgs(), '--registry-secret', `default/${testSecrets.regcred}`, '--registry-ca', ca],
      240_000,
    );
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain(`registry logins from Secret default/${testSecrets.regcred}`);
    expect((await migbenchAsync(['agent', 'status', ...kubeconfigArgs()])).stdout).toContain('registry logins and CA mounted');
    const copy = await admin.core.readNamespacedSecret({ name: AGENT_REGISTRY_SECRET, namespace: AGENT_NAMESPACE });
    expect(copy.type).toBe('kubernetes.io/dockerconfigjson');
    expect(Buffer.from(copy.data?.['.dockerconfigjson'] ?? '', 'base64').toString()).toBe(dockerConfig);
    // Ready agents (one that could not read the CA would not start), each with the logins as a root-only file on its node.
    const pods = (await admin.core.listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: AGENT_SELECTOR })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) {
      const node = pod.spec!.nodeName!;
      const index = cluster.state.nodes.findIndex((n) => n.name === node);
      expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, pod.metadata?.name).toBe('True');
      expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
      const logins = join(nodeLayout(node, index).kubeletRoot, 'pods', pod.metadata!.uid!, 'volumes', 'kubernetes.io~secret', 'registry-auth', 'config.json');
      expect((statSync(logins).mode & 0o777).toString(8), logins).toBe('400');
    }

    const plain = await migbenchAsync(['agent', 'install', ...kubeconfigArgs()], 240_000);
    expect(plain.code, plain.stderr).toBe(0);
    expect(await copies()).toEqual([]);
    expect(JSON.stringify((await daemonSet()).spec)).not.toContain('registry');
  } finally {
    for (const name of Object.values(testSecrets)) await admin.core.deleteNamespacedSecret({ name, namespace: 'default' }).catch(() => undefined);
  }
});

it('the target agent killed as the checkpoint is taken: the transfer fails, the source is resumed and serves, nothing is left', {
  timeout: 300_000,
}, async () => {
  const admin = adminClients(cluster.state.kubeconfig);
  const out = join(cluster.base, 'agent-killed');
  // Each trial's options are its own (criu/trials/<key>/restore.conf).
  const trialOptions = join(LAB_AGENT_PATHS.stateDir, 'criu', 'trials');
  const preparedForTrial = () => existsSync(trialOptions) && readdirSync(trialOptions).some((key) => existsSync(join(trialOptions, key, 'restore.conf')));
  expect(preparedForTrial(), 'no trial prepared yet').toBe(false);
  const run = redisCheckpointRun('agent-killed', out);
  // The target's agent has written the trial's restore options (the step just before the kubelet's
  // checkpoint call): its process is killed (SIGKILL) while the source is dumped, so the archive
  // finds a restarted agent that never heard of the trial, or none.
  await eventually('the target agent prepared for the trial', 120_000, async () => preparedForTrial());
  const target = (await admin.core.listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: AGENT_SELECTOR })).items.find(
    (p) => p.spec?.nodeName === 'worker-b',
  )!;
  const pids = podProcesses({ node: nodeLayout('worker-b', 1), podUid: target.metadata!.uid! }).filter((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/migbench-agent'),
  );
  expect(pids.length, 'the target agent process').toBe(1);
  process.kill(pids[0]!, 'SIGKILL');
  const { code, stderr } = await run;
  expect(code, stderr).toBe(1);
  const [trial] = csv(join(out, 'trials.csv'));
  expect(trial?.status, trial?.error).toBe('failed');
  expect(trial?.failed_phase).toBe('transfer');
  expect(trial?.error).toMatch(/the source migbench-redis was resumed on worker-a/);
  const events = csv(join(out, 'events.csv'));
  const resumedAt = Number(events.find((e) => e.event === 'source_resumed')!.t_ms);
  expect(
    csv(join(out, 'samples.csv')).filter((s) => Number(s.t_ms) > resumedAt && s.ok === 'true').length,
    'samples served after the source resumed',
  ).toBeGreaterThan(0);
  expect(trial?.redis_acked_writes_lost).toBe('0');
  expect(await leftOnNodes()).toEqual([]);
  expect(stoppedOnWorkerA()).toEqual([]);
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
});

it("the source's agent pod deleted as the archive is written: the transfer is retried by its replacement or the source resumed; nothing is lost or left", {
  timeout: 300_000,
}, async () => {
  const admin = adminClients(cluster.state.kubeconfig);
  await eventually('the node agent ready on both nodes', 60_000, async () => (await migbenchAsync(['agent', 'status', ...kubeconfigArgs()])).code === 0);
  const out = join(cluster.base, 'source-agent-killed');
  const run = redisCheckpointRun('source-agent-killed', out);
  // The kubelet's archive appears on worker-a while containerd writes it; the source's agent streams
  // it to worker-b right after: its pod is deleted at once (no grace), mid-way through that.
  await eventually('the checkpoint archive on worker-a', 120_000, async () => kubeletArchives('worker-a').length > 0, 5);
  const source = (await admin.core.listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: AGENT_SELECTOR })).items.find(
    (p) => p.spec?.nodeName === 'worker-a',
  )!;
  await admin.core.deleteNamespacedPod({ name: source.metadata!.name!, namespace: AGENT_NAMESPACE, gracePeriodSeconds: 0 });
  const { code, stderr } = await run;
  const [trial] = csv(join(out, 'trials.csv'));
  const events = csv(join(out, 'events.csv')).map((e) => e.event);
  if (trial?.status === 'ok') {
    // The replacement agent (a new pod of the DaemonSet) sent the archive the kubelet had kept.
    expect(code, stderr).toBe(0);
    expect(events).toContain('transfer_done');
  } else {
    expect(trial?.failed_phase, trial?.error).toBe('transfer');
    expect(trial?.error).toMatch(/the source migbench-redis was resumed on worker-a/);
    expect(events).toContain('source_resumed');
  }
  process.stderr.write(`source agent deleted mid-transfer: trial ${trial?.status} ${trial?.failed_phase ?? ''} ${trial?.error ?? ''}\n`);
  expect(trial?.redis_acked_writes_lost).toBe('0');
  expect(await leftOnNodes()).toEqual([]);
  expect(stoppedOnWorkerA()).toEqual([]);
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
});

it('migbench SIGKILLed while a move holds the source stopped, then cleanup: no stopped process, pod or archive once it returns', {
  timeout: 300_000,
}, async () => {
  const admin = adminClients(cluster.state.kubeconfig);
  // The agent is ready again (a DaemonSet replaced the pod the last test killed).
  await eventually('the node agent ready on both nodes', 60_000, async () => (await migbenchAsync(['agent', 'status', ...kubeconfigArgs()])).code === 0);
  const file = redisNodesScenario(join(cluster.base, 'killed.yaml'), '  - kubelet-checkpoint\nrepetitions: 1');
  const child = spawn(
    'sh',
    [
      join(ROOT, 'bin', 'migbench'),
      ...argsForAttempt(['run', file, '--warmup', '0', '--kubeconfig', cluster.state.kubeconfig, '--out', join(cluster.base, 'killed'), '--quiet']),
    ],
    { cwd: ROOT, detached: true, stdio: 'ignore' },
  );
  const exited = new Promise((done) => child.on('close', done));
  // leave-stopped: once the dump is written the source's redis-server stays stopped until the move ends.
  await eventually('the source stopped by its checkpoint', 120_000, async () => stoppedOnWorkerA().length > 0);
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  expect(stoppedOnWorkerA().length, 'still stopped after the crash').toBeGreaterThan(0);
  // A run in another namespace half-way through a move on the same nodes (its CRIU options on both,
  // the target's restore directory made), as its agents' requests leave it.
  const agentClient = new AgentClient(connectCluster({ kubeconfig: cluster.state.kubeconfig, namespace: 'migbench' }));
  const otherRun = new AgentCheckpointNodes(agentClient, LAB_AGENT_PATHS);
  const other = { key: 'other-run/1', namespace: 'other-run', source: 'worker-a', target: 'worker-b' };
  const otherOptions = join(LAB_AGENT_PATHS.stateDir, 'criu', 'trials', 'other-run-1');
  await otherRun.prepare(other);
  await otherRun.prepareRestore(other);

  const t0 = performance.now();
  const cleanup = await migbenchAsync(['cleanup', '--platform', 'kubernetes', ...kubeconfigArgs(), '--namespace', 'migbench'], 180_000);
  const cleanupMs = performance.now() - t0;
  // The other namespace's trial is as it was: cleanup of `migbench` removed that namespace's only.
  try {
    expect(readdirSync(otherOptions).sort()).toEqual(['checkpoint.conf', 'migbench-trial.json', 'restore.conf']);
    expect((await agentClient.json<{ prepared: boolean }>('worker-b', 'GET', '/v1/trials/other-run-1/restore-dir')).prepared).toBe(true);
    expect(cleanup.stdout).not.toContain('other-run');
  } finally {
    await otherRun.removeUnpacked(other);
    await otherRun.removeTrial(other, '');
  }
  expect(existsSync(otherOptions)).toBe(false);
  expect(cleanup.code, cleanup.stderr).toBe(0);
  expect(cleanup.stdout).toMatch(/resumed \d+ stopped processes of pod/);
  // Once cleanup returns: no stopped process, no migbench pod, no archive or image.
  expect(stoppedOnWorkerA()).toEqual([]);
  expect(
    (await admin.core.listNamespacedPod({ namespace: 'migbench', labelSelector: 'app.kubernetes.io/managed-by=migbench' })).items.map((p) => p.metadata?.name),
  ).toEqual([]);
  expect(podProcesses({ node: nodeLayout('worker-a', 0) }).filter((pid) => /redis-server/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')))).toEqual([]);
  expect(await leftOnNodes()).toEqual([]);
  // Well inside the stopped process's grace period it would otherwise have waited out (30 s).
  expect(cleanupMs).toBeLessThan(30_000);
});
