// runtime-restore on the real-node cluster started on containerd 2.4.2 (no restore from a checkpoint
// image at all) with the runtime handler (`cluster start --containerd 2.4.2 --runtime-handler`), run
// by the real CLI: the kubelet checkpoints Redis on worker-a, the node agents stream the archive to
// worker-b and unpack it, and a pod of RuntimeClass migbench is restored there by the runc wrapper.
// On the same nodes kubelet-checkpoint is `unsupported`, naming containerd 2.4 (and a run of it alone
// is refused, exit 2: it would measure nothing). The video stream and
// the trainer (a volume with its saves) move the same way, the stream and the training continuing in
// the restored processes. Then a restore that fails resumes the source and leaves nothing on either node.
// Last, the archive through a shared ReadWriteMany volume (`transfer: shared-volume`): refused (exit 2,
// nothing made) while the agent mounts none, a missing class or an RWO claim refused by the install, then with
// `agent install --shared-class migbench-lab` (shown by `agent status`) the
// move keeps every write, its event says the way, and nothing is left on the volume or the nodes.
import { expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { LAB_AGENT_PATHS } from '../../../src/lab/nodes/agent-install.ts';
import { nodeLayout } from '../../../src/lab/nodes/layout.ts';
import { ensureWorkloadPrerequisites } from '../../../src/setup/workload-prerequisites.ts';
import { nodesScenario, redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn } from '../../platforms/kubernetes/cluster-kit.ts';
import { AGENT_NAMESPACE } from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import { SHARED_CLAIM } from '../../../src/platforms/kubernetes/agent/agent-shared-volume.ts';

const cluster = useRealNodeCluster(
  'migbench-runtime-restore',
  () => ensureWorkloadPrerequisites(['video', 'ml-training'], (line) => process.stderr.write(`${line}\n`)),
  { containerd: '2.4.2', runtimeHandler: true },
);

const csv = (file: string) => {
  try {
    return parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
  } catch {
    return [];
  }
};

/** What a runtime-restore trial could leave: the kubelets' archives, the agents' received and unpacked checkpoints. */
function leftOnNodes(): string[] {
  const left: string[] = [];
  for (const [i, node] of cluster.state.nodes.entries()) {
    const archives = join(nodeLayout(node.name, i).kubeletRoot, 'checkpoints');
    if (existsSync(archives)) left.push(...readdirSync(archives).map((f) => `${node.name}: archive ${f}`));
  }
  const store = join(LAB_AGENT_PATHS.stateDir, 'store');
  for (const node of existsSync(store) ? readdirSync(store) : []) left.push(...readdirSync(join(store, node)).map((f) => `${node}: received archive ${f}`));
  const unpacked = join(LAB_AGENT_PATHS.stateDir, 'restore');
  if (existsSync(unpacked)) left.push(...readdirSync(unpacked).map((f) => `unpacked checkpoint ${f}`));
  return left;
}

const scenario = (name: string) => redisNodesScenario(join(cluster.base, `${name}.yaml`), '  - runtime-restore\n  - kubelet-checkpoint\nrepetitions: 1');

it('moves Redis on containerd 2.4.2 with the runtime handler, its data intact; kubelet-checkpoint is unsupported there, naming why', {
  timeout: 600_000,
}, async () => {
  expect(cluster.state.nodes.length).toBe(2);
  const out = join(cluster.base, 'moved');
  const run = await migbenchAsync(['run', scenario('moved'), '--warmup', '0', '--out', out, '--quiet'], 540_000);
  const trials = csv(join(out, 'trials.csv'));
  const diagnose = `\n${trials.map((t) => `trial ${t.trial} ${t.strategy}: ${t.status} ${t.failed_phase}: ${t.error}`).join('\n')}\n--- stderr ---\n${run.stderr}`;
  expect(run.code, diagnose).toBe(0);
  const moved = trials.find((t) => t.strategy === 'runtime-restore');
  expect(moved?.status, diagnose).toBe('ok');
  // Redis' keys were read back from the restored server (verify: status ok), and no acknowledged write was lost.
  expect(moved?.redis_acked_writes_lost).toBe('0');
  for (const column of ['checkpoint_api_ms', 'transfer_ms', 'restore_ms', 'checkpoint_bytes', 'criu_frozen_ms', 'downtime_ms'])
    expect(Number(moved?.[column]), column).toBeGreaterThan(0);
  expect(moved?.image_build_ms, 'no checkpoint image').toBe('');
  const steps = csv(join(out, 'events.csv'))
    .filter((e) => e.trial === moved?.trial && e.source === 'strategy:runtime-restore')
    .map((e) => e.event);
  expect(steps).toEqual([
    'checkpoint_request',
    'checkpoint_done',
    'transfer_done',
    'checkpoint_unpacked',
    'restore_pod_created',
    'ready',
    'service_switched',
    'source_deleting',
    'endpoint_switched',
    'source_removed',
  ]);
  const refused = trials.find((t) => t.strategy === 'kubelet-checkpoint');
  expect(refused?.status).toBe('unsupported');
  expect(refused?.error).toMatch(/containerd 2\.4\.2: containerd 2\.4 removed the restore from a checkpoint image/);
  const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  expect(JSON.stringify(runJson.platform.runtimes)).toContain('containerd://2.4.2');
  expect(leftOnNodes()).toEqual([]);
  expect(await migbenchObjectsIn(adminClients(cluster.state.kubeconfig), 'migbench')).toEqual([]);
});

it('kubelet-checkpoint alone on containerd 2.4.2: refused with exit 2 before anything is created, naming containerd 2.4', { timeout: 120_000 }, async () => {
  const out = join(cluster.base, 'kubelet-checkpoint-alone');
  const run = await migbenchAsync(
    [
      'run',
      redisNodesScenario(join(cluster.base, 'kubelet-checkpoint-alone.yaml'), '  - kubelet-checkpoint\nrepetitions: 1'),
      '--warmup',
      '0',
      '--out',
      out,
      '--quiet',
    ],
    100_000,
  );
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr.trim()).toMatch(
    /^migbench: strategies: none of them can run on worker-a and worker-b, so a run would measure nothing: kubelet-checkpoint: .*containerd 2\.4 removed the restore from a checkpoint image.*; nothing was created$/,
  );
  expect(existsSync(out), 'no results directory').toBe(false);
  expect(await migbenchObjectsIn(adminClients(cluster.state.kubeconfig), 'migbench')).toEqual([]);
});

it('moves the video stream and the trainer the same way: the stream and the training go on in the restored processes', {
  timeout: 600_000,
}, async () => {
  const out = join(cluster.base, 'video-training');
  const run = await migbenchAsync(
    [
      'run',
      nodesScenario(join(cluster.base, 'video-training.yaml'), ['video', 'ml-training'], '  - runtime-restore\nrepetitions: 1'),
      '--warmup',
      '0',
      '--out',
      out,
      '--quiet',
    ],
    540_000,
  );
  const trials = csv(join(out, 'trials.csv'));
  const diagnose = `\n${trials.map((t) => `trial ${t.trial} ${t.workload}: ${t.status} ${t.failed_phase}: ${t.error}`).join('\n')}\n--- stderr ---\n${run.stderr}`;
  expect(run.code, diagnose).toBe(0);
  expect(trials.map((t) => `${t.workload}/${t.status}`).sort(), diagnose).toEqual(['ml-training/ok', 'video/ok']);
  const row = (workload: string) => trials.find((t) => t.workload === workload)!;
  for (const t of trials)
    for (const column of ['checkpoint_api_ms', 'transfer_ms', 'restore_ms', 'checkpoint_bytes', 'downtime_ms'])
      expect(Number(t[column]), `${t.workload} ${column}`).toBeGreaterThan(0);

  // Video: one server process throughout (one epoch), and its sequence numbers went on from where they were.
  const video = row('video');
  const frames = csv(join(out, 'frames.csv')).filter((f) => f.trial === video.trial);
  expect(new Set(frames.map((f) => f.epoch)).size, 'one epoch: the restored process continued the stream').toBe(1);
  const beforeTrigger = Math.max(...frames.filter((f) => Number(f.t_ms) < 0).map((f) => Number(f.seq)));
  const afterMove = frames.filter((f) => Number(f.t_ms) > Number(video.migration_ms)).map((f) => Number(f.seq));
  expect(afterMove.length, 'frames arrived after the move').toBeGreaterThan(0);
  expect(Math.min(...afterMove), 'the stream continued where it was').toBeGreaterThan(beforeTrigger);
  expect(video.video_frames_lost).toBe('0');

  // Training: one process throughout (the restored one, not a restart from /data's save), its step counter never went back.
  const training = row('ml-training');
  expect(training.training_steps_lost).toBe('0');
  const progress = csv(join(out, 'progress.csv')).filter((p) => p.trial === training.trial);
  expect(new Set(progress.map((p) => p.process_start)).size, 'one process: the trainer was restored, not restarted').toBe(1);
  const lastBefore = Math.max(...progress.filter((p) => Number(p.t_ms) < 0).map((p) => Number(p.step)));
  const afterTraining = progress.filter((p) => Number(p.t_ms) > Number(training.migration_ms)).map((p) => Number(p.step));
  expect(afterTraining.length, 'progress reported after the move').toBeGreaterThan(0);
  expect(Math.min(...afterTraining), 'training went on from its in-memory step').toBeGreaterThanOrEqual(lastBefore);
  expect(leftOnNodes()).toEqual([]);
  expect(await migbenchObjectsIn(adminClients(cluster.state.kubeconfig), 'migbench')).toEqual([]);
});

it('a restore that fails resumes the stopped source: the trial fails in restore, Redis is served again, nothing is left', { timeout: 300_000 }, async () => {
  // CRIU on the target refuses the restore: an option it does not have in the node's extra options.
  const extra = join(LAB_AGENT_PATHS.stateDir, 'criu', 'extra-restore.conf');
  writeFileSync(extra, 'no-such-criu-option\n');
  const out = join(cluster.base, 'failed');
  let run: Awaited<ReturnType<typeof migbenchAsync>>;
  try {
    run = await migbenchAsync(
      ['run', redisNodesScenario(join(cluster.base, 'failed.yaml'), '  - runtime-restore\nrepetitions: 1'), '--warmup', '0', '--out', out, '--quiet'],
      240_000,
    );
  } finally {
    rmSync(extra, { force: true });
  }
  expect(run.code, run.stderr).toBe(1);
  const [trial] = csv(join(out, 'trials.csv'));
  expect(trial?.status, trial?.error).toBe('failed');
  expect(trial?.failed_phase).toBe('restore');
  expect(trial?.error).toMatch(/the source migbench-redis was resumed on worker-a/);
  const events = csv(join(out, 'events.csv'));
  const resumedAt = Number(events.find((e) => e.event === 'source_resumed')?.t_ms);
  expect(resumedAt).toBeGreaterThan(0);
  const samples = csv(join(out, 'samples.csv'));
  expect(samples.filter((s) => Number(s.t_ms) > resumedAt && s.ok === 'true').length, 'served after the source resumed').toBeGreaterThan(0);
  expect(trial?.redis_acked_writes_lost).toBe('0');
  expect(leftOnNodes()).toEqual([]);
  expect(await migbenchObjectsIn(adminClients(cluster.state.kubeconfig), 'migbench')).toEqual([]);
});

it('with the target pod created before the dump, its create waits in the handler and the move still keeps every write', { timeout: 300_000 }, async () => {
  const out = join(cluster.base, 'before-dump');
  const run = await migbenchAsync(
    [
      'run',
      redisNodesScenario(join(cluster.base, 'before-dump.yaml'), '  - name: runtime-restore\n    targetPod: before-dump\nrepetitions: 1'),
      '--warmup',
      '0',
      '--out',
      out,
      '--quiet',
    ],
    240_000,
  );
  const [trial] = csv(join(out, 'trials.csv'));
  expect(run.code, `${trial?.error}\n${run.stderr}`).toBe(0);
  expect(trial?.strategy).toBe('runtime-restore+target-before-dump');
  expect(trial?.redis_acked_writes_lost).toBe('0');
  const steps = csv(join(out, 'events.csv'))
    .filter((e) => e.source === 'strategy:runtime-restore')
    .map((e) => e.event);
  expect(steps.slice(0, 7)).toEqual([
    'restore_pod_created',
    'restore_waiting',
    'checkpoint_request',
    'checkpoint_done',
    'transfer_done',
    'checkpoint_unpacked',
    'ready',
  ]);
  expect(leftOnNodes()).toEqual([]);
  expect(await migbenchObjectsIn(adminClients(cluster.state.kubeconfig), 'migbench')).toEqual([]);
});

it('moves Redis with the archive through the shared volume: refused before the agent mounts one, then every write kept and nothing left on it', {
  timeout: 300_000,
}, async () => {
  const started = performance.now();
  const shared = (name: string) =>
    redisNodesScenario(join(cluster.base, `${name}.yaml`), '  - name: runtime-restore\n    transfer: shared-volume\nrepetitions: 1');
  const kubeconfig = ['--kubeconfig', cluster.state.kubeconfig];

  // The agent as the lab installs it mounts no shared volume: the run stops before anything is made, naming the fix.
  const refused = await migbenchAsync(['run', shared('refused'), '--warmup', '0', '--out', join(cluster.base, 'refused'), '--quiet'], 120_000);
  expect(refused.code, refused.stderr).toBe(2);
  expect(refused.stderr).toMatch(
    /strategies\[\]\.transfer: shared-volume: the node agent is installed without a shared volume; install the agent with one: migbench agent install --shared-class CLASS/,
  );
  expect(await migbenchObjectsIn(adminClients(cluster.state.kubeconfig), 'migbench')).toEqual([]);
  // A class that does not exist is refused by the install, before anything is applied.
  const noClass = await migbenchAsync(['agent', 'install', ...kubeconfig, '--shared-class', 'no-such-class'], 120_000);
  expect(noClass.code, noClass.stderr).toBe(2);
  expect(noClass.stderr).toMatch(/--shared-class: no StorageClass "no-such-class" .*\(it has: migbench-lab/);

  // A claim of the user's that both agents could not mount at once is refused too.
  const admin = adminClients(cluster.state.kubeconfig);
  await admin.core.createNamespacedPersistentVolumeClaim({
    namespace: AGENT_NAMESPACE,
    body: { metadata: { name: 'one-node-only' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  });
  const rwo = await migbenchAsync(['agent', 'install', ...kubeconfig, '--shared-claim', 'one-node-only'], 120_000);
  await admin.core.deleteNamespacedPersistentVolumeClaim({ name: 'one-node-only', namespace: AGENT_NAMESPACE });
  expect(rwo.code, rwo.stderr).toBe(2);
  expect(rwo.stderr).toMatch(/--shared-claim: PersistentVolumeClaim migbench-agent\/one-node-only is ReadWriteOnce, not ReadWriteMany/);

  const install = await migbenchAsync(['agent', 'install', ...kubeconfig, '--shared-class', 'migbench-lab'], 240_000);
  expect(install.code, install.stderr).toBe(0);
  const status = await migbenchAsync(['agent', 'status', ...kubeconfig], 60_000);
  expect(status.stdout, status.stderr).toMatch(new RegExp(`ready on 2/2 nodes, shared volume: claim ${SHARED_CLAIM}`));
  const installedS = (performance.now() - started) / 1000;

  const out = join(cluster.base, 'shared');
  const run = await migbenchAsync(['run', shared('shared'), '--warmup', '0', '--out', out, '--quiet'], 240_000);
  const [trial] = csv(join(out, 'trials.csv'));
  expect(run.code, `${trial?.error}\n${run.stderr}`).toBe(0);
  expect(trial?.strategy).toBe('runtime-restore+shared-volume');
  expect(trial?.status).toBe('ok');
  expect(trial?.redis_acked_writes_lost).toBe('0');
  for (const column of ['transfer_ms', 'checkpoint_bytes', 'downtime_ms']) expect(Number(trial?.[column]), column).toBeGreaterThan(0);
  const transferred = csv(join(out, 'events.csv')).find((e) => e.event === 'transfer_done');
  expect(transferred?.detail).toMatch(
    new RegExp(`^${trial?.checkpoint_bytes} bytes to worker-b through the shared volume ${AGENT_NAMESPACE}/${SHARED_CLAIM} \\(sha256 `),
  );

  // The claim's directory (the lab's provisioner: one per claim on the shared directory) holds nothing of the trial.
  const claim = await admin.core.readNamespacedPersistentVolumeClaim({ name: SHARED_CLAIM, namespace: AGENT_NAMESPACE });
  const volume = await admin.core.readPersistentVolume({ name: claim.spec!.volumeName! });
  expect(readdirSync(volume.spec!.hostPath!.path), 'left on the shared volume').toEqual([]);
  expect(leftOnNodes()).toEqual([]);
  expect(await migbenchObjectsIn(adminClients(cluster.state.kubeconfig), 'migbench')).toEqual([]);
  process.stderr.write(
    `shared-volume test: ${installedS.toFixed(1)} s to the agent with the volume, ${((performance.now() - started) / 1000).toFixed(1)} s in all\n`,
  );
});
