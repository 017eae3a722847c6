// runtime-restore on the real-node cluster started on containerd 2.4.2 (no restore from a checkpoint
// image at all) with the runtime handler (`cluster start --containerd 2.4.2 --runtime-handler`), run
// by the real CLI: the kubelet checkpoints Redis on worker-a, the node agents stream the archive to
// worker-b and unpack it, and a pod of RuntimeClass migbench is restored there by the runc wrapper.
// On the same nodes kubelet-checkpoint is `unsupported`, naming containerd 2.4. The video stream and
// the trainer (a volume with its saves) move the same way, the stream and the training continuing in
// the restored processes. Then a restore that fails resumes the source and leaves nothing on either node.
import { expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { LAB_AGENT_PATHS } from '../../../src/lab/nodes/agent-install.ts';
import { nodeLayout } from '../../../src/lab/nodes/layout.ts';
import { ensureWorkloadPrerequisites } from '../../../src/setup/workload-prerequisites.ts';
import { nodesScenario, redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn } from '../../platforms/kubernetes/cluster-kit.ts';

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
