// scenarios/k8s-nodes.yaml, run by the real CLI on the real-node cluster (`migbench cluster`): drain
// and redeploy move Redis, the video server and the training job between two real nodes, and the
// CSVs say so — Redis reloaded its AOF (no acknowledged write lost), the video stream came back,
// training resumed from its last checkpoint (fewer steps lost than one save interval) — their data on
// real claims of the lab's StorageClass, none left after. Ctrl-C during a drain exits 130 and leaves
// every node schedulable. Then a node whose containerd is down makes the
// run refuse to start (exit 2, naming the node), creating nothing.
import { expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { nodeProcesses } from '../../../src/lab/nodes/host-state.ts';
import { RESPAWN_LOOP } from '../../../src/lab/nodes/respawn.ts';
import { ensureWorkloadPrerequisites } from '../../../src/setup/workload-prerequisites.ts';
import { REDIS_NO_DISRUPTION, redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { claimSummary, labStorageLeft, servedByLabClass, watchLabClaims } from '../../helpers/lab-claims.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn, unschedulableNodes } from './cluster-kit.ts';
import { argsForAttempt } from '../../helpers/attempt.ts';

/** train.py's --save-every-steps in workloads/ml-training/k8s.yaml. */
const SAVE_EVERY_STEPS = 100;

const cluster = useRealNodeCluster('migbench-k8s-nodes', () =>
  ensureWorkloadPrerequisites(['video', 'ml-training'], (line) => process.stderr.write(`${line}\n`)),
);

const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

it('moves each workload between the real nodes by drain and by redeploy, with its state intact', { timeout: 900_000 }, async () => {
  const out = `${cluster.base}/results`;
  // kubelet-checkpoint, the scenario's third strategy, has its own test file (kubelet-checkpoint.test.ts).
  const claims = watchLabClaims(cluster.state.kubeconfig, 'migbench');
  const run = await migbenchAsync(
    ['run', 'scenarios/k8s-nodes.yaml', '--strategies', 'drain,redeploy', '--reps', '1', '--warmup', '0', '--out', out, '--quiet'],
    840_000,
  );
  const seenClaims = await claims.stop();
  const trials = (() => {
    try {
      return csv(`${out}/trials.csv`);
    } catch {
      return [];
    }
  })();
  const diagnose = `\n${trials
    .filter((t) => t.status !== 'ok')
    .map((t) => `trial ${t.trial} ${t.workload} ${t.strategy}: ${t.failed_phase}: ${t.error}`)
    .join('\n')}\n--- stderr ---\n${run.stderr}`;
  expect(run.code, diagnose).toBe(0);
  expect(trials.map((t) => `${t.workload}/${t.strategy}`).sort()).toEqual([
    'ml-training/drain',
    'ml-training/redeploy',
    'redis/drain',
    'redis/redeploy',
    'video/drain',
    'video/redeploy',
  ]);
  for (const t of trials) {
    const what = `${t.workload}/${t.strategy}`;
    expect(t.status, what + diagnose).toBe('ok');
    expect(Number(t.pod_ready_ms), `${what} pod_ready_ms`).toBeGreaterThan(0);
    expect(Number(t.downtime_ms), `${what} downtime_ms`).toBeGreaterThan(0);
    if (t.workload === 'redis') expect(t.redis_acked_writes_lost, `${what}: every acknowledged write was in the reloaded AOF`).toBe('0');
    if (t.workload === 'video') {
      expect(Number(t.video_reconnect_ms), `${what}: the stream came back`).toBeGreaterThan(0);
      expect(Number(t.video_frames_lost)).toBeGreaterThanOrEqual(0);
    }
    if (t.workload === 'ml-training') {
      const lost = Number(t.training_steps_lost);
      expect(lost, `${what}: resumed from its last checkpoint, not from step 0`).toBeGreaterThanOrEqual(0);
      expect(lost).toBeLessThan(SAVE_EVERY_STEPS);
    }
  }
  // The AOF and the trainer's save that the recreated pods found on worker-b were on real claims of
  // the lab's StorageClass: a fresh volume per trial (two trials per workload), each deleted after it.
  expect(claimSummary(seenClaims)).toEqual([
    servedByLabClass('migbench-ml-training-data'),
    servedByLabClass('migbench-ml-training-data'),
    servedByLabClass('migbench-redis-data'),
    servedByLabClass('migbench-redis-data'),
  ]);
  expect(await labStorageLeft(cluster.state.kubeconfig, 'migbench')).toEqual([]);
});

it('Ctrl-C while a drain waits exits 130, uncordons the node and leaves nothing of the trial', { timeout: 300_000 }, async () => {
  const { state, base } = cluster;
  const admin = adminClients(state.kubeconfig);
  // A budget that allows no disruption holds the drain at the Eviction API (429, retried), worker-a cordoned.
  await admin.objects.create(REDIS_NO_DISRUPTION);
  const file = redisNodesScenario(join(base, 'drain-interrupt.yaml'));
  const child = spawn(
    'sh',
    ['bin/migbench', ...argsForAttempt(['run', file, '--strategies', 'drain', '--reps', '1', '--warmup', '0', '--out', join(base, 'interrupted')])],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  try {
    await eventually('the drain to cordon worker-a', 120_000, async () => (await admin.core.readNode({ name: 'worker-a' })).spec?.unschedulable === true);
    await new Promise((r) => setTimeout(r, 1500)); // a few refused evictions
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited, output).toBe(130);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await admin.objects.delete(REDIS_NO_DISRUPTION).catch(() => undefined);
  }
  expect(await unschedulableNodes(admin)).toEqual({});
  await eventually("the trial's objects to be gone", 60_000, async () => (await migbenchObjectsIn(admin, 'migbench')).length === 0);
  expect(await labStorageLeft(state.kubeconfig, 'migbench')).toEqual([]);
});

it('refuses to start when a node is NotReady because its containerd is down: exit 2 naming the node, nothing created', { timeout: 300_000 }, async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.state.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const onWorkerB = (name: string) => nodeProcesses().find((p) => p.name === name && readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('/worker-b/'));
  const containerd = onWorkerB('containerd');
  expect(containerd).toBeDefined();
  // containerd runs under a respawn loop, as under systemd's Restart=always: the loop first (the
  // service stopped), then containerd, so it stays down.
  const loop = onWorkerB(RESPAWN_LOOP);
  expect(loop).toBeDefined();
  process.kill(loop!.pid, 'SIGKILL');
  process.kill(containerd!.pid, 'SIGKILL');
  // kubelet notices the runtime is gone and reports the node NotReady.
  const deadline = Date.now() + 180_000;
  for (;;) {
    const node = await core.readNode({ name: 'worker-b' });
    if (node.status?.conditions?.some((c) => c.type === 'Ready' && c.status !== 'True')) break;
    if (Date.now() > deadline) throw new Error('worker-b still Ready 180 s after its containerd was killed');
    await new Promise((r) => setTimeout(r, 1000));
  }
  const run = await migbenchAsync(['run', 'scenarios/k8s-nodes.yaml', '--reps', '1', '--warmup', '0', '--out', `${cluster.base}/refused`, '--quiet'], 120_000);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/node worker-b is NotReady/);
  expect(run.stderr).toMatch(/nothing was created/);
  const pods = await core.listNamespacedPod({ namespace: 'migbench' });
  expect(pods.items).toEqual([]);
});
