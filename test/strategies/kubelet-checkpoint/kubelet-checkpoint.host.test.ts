// kubelet-checkpoint on the real-node cluster (`migbench cluster`), run by the real CLI: the
// kubelet's checkpoint API on worker-a, the node agents (the DaemonSet the lab installs, reached
// through the API server's pod proxy) streaming the archive to worker-b and importing a checkpoint
// image into its containerd, a pod restored from it there; Redis' and the trainer's data on real
// claims of the lab's StorageClass, nothing of them left after the run. Run as a user who has a client
// certificate of the cluster's CA and nothing but the shipped roles, so kubelet itself (authorization
// mode Webhook) checks `create nodes/checkpoint` through RBAC. Then: the same user without that
// permission is stopped before any trial (exit 2); and a restore that fails resumes the source.
import { expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { CHECKPOINT_IMAGE_PREFIX } from '../../../src/platforms/kubernetes/checkpoint-nodes.ts';
import { nodeLayout } from '../../../src/lab/nodes/layout.ts';
import { LAB_AGENT_PATHS } from '../../../src/lab/nodes/agent-install.ts';
import { ensureWorkloadPrerequisites } from '../../../src/setup/workload-prerequisites.ts';
import { exec } from '../../../src/system/exec.ts';
import { labUserKubeconfig, redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { claimSummary, labStorageLeft, servedByLabClass, watchLabClaims } from '../../helpers/lab-claims.ts';
import { adminClients, applyShipped, bindRole, migbenchAsync, migbenchObjectsIn, type AdminClients } from '../../platforms/kubernetes/cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-kubelet-checkpoint', () =>
  ensureWorkloadPrerequisites(['video', 'ml-training'], (line) => process.stderr.write(`${line}\n`)),
);

const csv = (file: string) => {
  try {
    return parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
  } catch {
    return [];
  }
};

/** A kubeconfig with its own client certificate (CN = user), for the API server and the kubelets alike. */
const userKubeconfig = (user: string) => labUserKubeconfig(cluster, user);

/** What a kubelet-checkpoint trial could leave on the nodes: checkpoint images, the kubelets' archives, the agents' received archives. */
async function leftOnNodes(): Promise<string[]> {
  const { state } = cluster;
  const left: string[] = [];
  for (const [i, node] of state.nodes.entries()) {
    const layout = nodeLayout(node.name, i);
    const images = await exec(state.binaries.ctr, ['--address', layout.containerdSocket, '-n', 'k8s.io', 'images', 'ls', '-q']);
    left.push(
      ...images.stdout
        .split('\n')
        .filter((l) => l.startsWith(CHECKPOINT_IMAGE_PREFIX))
        .map((l) => `${node.name}: image ${l}`),
    );
    const archives = join(layout.kubeletRoot, 'checkpoints');
    if (existsSync(archives)) left.push(...readdirSync(archives).map((f) => `${node.name}: archive ${f}`));
  }
  const store = join(LAB_AGENT_PATHS.stateDir, 'store');
  for (const node of existsSync(store) ? readdirSync(store) : []) left.push(...readdirSync(join(store, node)).map((f) => `${node}: received archive ${f}`));
  return left;
}

let admin: AdminClients;
let runnerKubeconfig: string;

it('moves Redis, the video stream and training between the real nodes with the shipped roles, their state intact, and leaves nothing', {
  timeout: 900_000,
}, async () => {
  admin = adminClients(cluster.state.kubeconfig);
  await applyShipped(admin, 'clusterrole.yaml');
  await bindRole(admin, 'migbench-runner', 'migbench', 'migbench');
  await bindRole(admin, 'migbench-runner', 'migbench-nodes');
  await bindRole(admin, 'migbench-runner', 'migbench-agent-user', 'migbench-agent');
  runnerKubeconfig = await userKubeconfig('migbench-runner');
  const out = join(cluster.base, 'results');
  const claims = watchLabClaims(cluster.state.kubeconfig, 'migbench');
  const run = await migbenchAsync(
    [
      'run',
      'scenarios/k8s-nodes.yaml',
      '--strategies',
      'kubelet-checkpoint',
      '--reps',
      '1',
      '--warmup',
      '0',
      '--kubeconfig',
      runnerKubeconfig,
      '--out',
      out,
      '--quiet',
    ],
    840_000,
  );
  const seenClaims = await claims.stop();
  const trials = csv(join(out, 'trials.csv'));
  const diagnose = `\n${trials
    .filter((t) => t.status !== 'ok')
    .map((t) => `trial ${t.trial} ${t.workload}: ${t.failed_phase}: ${t.error}`)
    .join('\n')}\n--- stderr ---\n${run.stderr}`;
  expect(run.code, diagnose).toBe(0);
  expect(trials.map((t) => `${t.workload}/${t.strategy}/${t.status}`).sort()).toEqual([
    'ml-training/kubelet-checkpoint/ok',
    'redis/kubelet-checkpoint/ok',
    'video/kubelet-checkpoint/ok',
  ]);
  const events = csv(join(out, 'events.csv'));
  for (const t of trials) {
    const what = t.workload!;
    // Each upstream phase happened, in order, and is in trials.csv.
    const steps = events.filter((e) => e.trial === t.trial && e.source === 'strategy:kubelet-checkpoint').map((e) => e.event);
    expect(steps, what).toEqual([
      'checkpoint_request',
      'checkpoint_done',
      'transfer_done',
      'image_built',
      'image_imported',
      'restore_pod_created',
      'ready',
      'service_switched',
      'source_deleting',
      'endpoint_switched',
      'source_removed',
    ]);
    for (const column of [
      'checkpoint_api_ms',
      'transfer_ms',
      'image_build_ms',
      'image_import_ms',
      'restore_ms',
      'checkpoint_bytes',
      'criu_frozen_ms',
      'criu_pages_written',
      'downtime_ms',
    ]) {
      expect(Number(t[column]), `${what} ${column}`).toBeGreaterThan(0);
    }
  }
  const row = (workload: string) => trials.find((t) => t.workload === workload)!;
  // Redis: the keys the probe wrote were read back from the restored server (verify passed: status ok);
  // a write the source acknowledged after its checkpoint would be lost — none is, the source stops with the dump.
  expect(row('redis').redis_acked_writes_lost).toBe('0');
  // Training: the restored job carries on from the step it was checkpointed at.
  expect(row('ml-training').training_steps_lost).toBe('0');
  // Video: one server process throughout (one epoch), and its sequence numbers never went back.
  const videoTrial = row('video').trial;
  const frames = csv(join(out, 'frames.csv')).filter((f) => f.trial === videoTrial);
  expect(new Set(frames.map((f) => f.epoch)).size, 'one epoch: the restored process continued the stream').toBe(1);
  const beforeTrigger = Math.max(...frames.filter((f) => Number(f.t_ms) < 0).map((f) => Number(f.seq)));
  const afterMove = frames.filter((f) => Number(f.t_ms) > Number(row('video').migration_ms)).map((f) => Number(f.seq));
  expect(afterMove.length, 'frames arrived after the move').toBeGreaterThan(0);
  expect(Math.min(...afterMove), 'the stream continued where it was').toBeGreaterThan(beforeTrigger);
  expect(row('video').video_frames_lost).toBe('0');
  // Redis' AOF and the trainer's save were on real claims of the lab's StorageClass (a volume each,
  // on the directory both nodes see), which the restored pods on worker-b mounted again.
  expect(claimSummary(seenClaims)).toEqual([servedByLabClass('migbench-ml-training-data'), servedByLabClass('migbench-redis-data')]);
  // run.json: containerd's restore settings as each node runs them (the node agent's reading of its
  // CRI status), not containerd 2.3.7's default ("off by default"): the lab turns the restore on.
  const runtimes = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).platform.runtimes as Record<string, Record<string, string>>;
  for (const node of cluster.state.nodes.map((n) => n.name)) {
    expect(runtimes[node], `${node}: ${JSON.stringify(runtimes[node])}`).toMatchObject({
      checkpointRestore: 'on (enable_experimental_restore_via_create = true)',
      criuConfigAnnotation: 'passed (runtime runc: pod_annotations = ["org.criu.config"])',
    });
  }
  expect(await leftOnNodes()).toEqual([]);
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
  expect(await labStorageLeft(cluster.state.kubeconfig, 'migbench')).toEqual([]);
});

it('without nodes/checkpoint the run exits 2 before any trial, naming the permission, and creates nothing', { timeout: 300_000 }, async () => {
  // The shipped migbench-nodes role less its nodes/checkpoint rule.
  const shipped = parseYaml(readFileSync('deploy/kubernetes/clusterrole.yaml', 'utf8').split(/^---$/m)[1]!);
  const rules = shipped.rules.filter((r: { resources: string[] }) => !r.resources.includes('nodes/checkpoint'));
  expect(rules.length, 'the shipped role had the rule').toBe(shipped.rules.length - 1);
  await admin.objects.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'migbench-nodes-without-checkpoint' },
    rules,
  } as never);
  await bindRole(admin, 'migbench-no-checkpoint', 'migbench', 'migbench');
  await bindRole(admin, 'migbench-no-checkpoint', 'migbench-nodes-without-checkpoint');
  const kubeconfig = await userKubeconfig('migbench-no-checkpoint');
  const out = join(cluster.base, 'refused');
  const run = await migbenchAsync(
    ['run', redisNodesScenario(join(cluster.base, 'refused.yaml'), '  - kubelet-checkpoint\nrepetitions: 1'), '--kubeconfig', kubeconfig, '--out', out],
    120_000,
  );
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/lacks the permission `create nodes\/checkpoint`/);
  expect(run.stderr).toMatch(/deploy\/kubernetes\/clusterrole\.yaml/);
  expect(existsSync(join(out, 'trials.csv'))).toBe(false);
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
});

it('a restore that fails resumes the stopped source: the trial fails in restore, the service is served again, nothing is left', {
  timeout: 300_000,
}, async () => {
  // A target node whose CRIU refuses to restore: an option CRIU does not have, added by the node's
  // administrator (the agent appends extra-restore.conf to the restore's options).
  const extra = join(LAB_AGENT_PATHS.stateDir, 'criu', 'extra-restore.conf');
  writeFileSync(extra, 'no-such-criu-option\n');
  const out = join(cluster.base, 'failed-restore');
  let run: Awaited<ReturnType<typeof migbenchAsync>>;
  try {
    run = await migbenchAsync(
      [
        'run',
        redisNodesScenario(join(cluster.base, 'failed-restore.yaml'), '  - kubelet-checkpoint\nrepetitions: 1'),
        '--warmup',
        '0',
        '--kubeconfig',
        runnerKubeconfig,
        '--out',
        out,
        '--quiet',
      ],
      240_000,
    );
  } finally {
    rmSync(extra, { force: true });
  }
  expect(run.code, run.stderr).toBe(1);
  const [trial] = csv(join(out, 'trials.csv'));
  expect(trial?.status).toBe('failed');
  expect(trial?.failed_phase).toBe('restore');
  expect(trial?.error).toMatch(/the source migbench-redis was resumed on worker-a/);
  const events = csv(join(out, 'events.csv')).map((e) => e.event);
  expect(events).toContain('source_resumed');
  expect(events).toContain('observe_after_failure');
  // The resumed source answered again, and every write it had acknowledged was still there (verify passed).
  const samples = csv(join(out, 'samples.csv'));
  const resumedAt = Number(csv(join(out, 'events.csv')).find((e) => e.event === 'source_resumed')!.t_ms);
  expect(samples.filter((s) => Number(s.t_ms) > resumedAt && s.ok === 'true').length, 'samples served after the source resumed').toBeGreaterThan(0);
  expect(events).not.toContain('observe_failed');
  expect(trial?.redis_acked_writes_lost).toBe('0');
  expect(await leftOnNodes()).toEqual([]);
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
});
