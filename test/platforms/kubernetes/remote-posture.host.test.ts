// The lab's nodes tested as someone else's cluster: the harness gets a kubeconfig and nothing else
// (test/helpers/remote-posture.ts: its own mount and pid namespace, the lab's state, caches, run
// directories, netns names and cgroupfs hidden, the node processes invisible, no `ctr`). From there
// drain, redeploy and kubelet-checkpoint — its checkpoint image imported by the node agents, and
// pushed to the lab's registry and pulled by the target's kubelet (`delivery: registry`) — move each
// workload, run from its real image in the lab's registry pinned by digest, between the lab's nodes
// with its state intact; the pushed checkpoint images are gone from the registry afterwards.
import { expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { LAB_REGISTRY } from '../../../src/lab/nodes/lab-registry.ts';
import { migbenchRemote, standaloneKubeconfig } from '../../helpers/remote-posture.ts';
import { useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, loadLabImages, migbenchObjectsIn } from './cluster-kit.ts';

/** train.py's --save-every-steps in workloads/ml-training/k8s.yaml. */
const SAVE_EVERY_STEPS = 100;
const WORKLOADS = ['redis', 'video', 'ml-training'] as const;

const cluster = useRealNodeCluster('migbench-remote-posture');

const csv = (file: string) => {
  try {
    return parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
  } catch {
    return [];
  }
};

let images: Record<string, string> = {};

/** scenarios/k8s-nodes.yaml with no lab path in it: the cluster from $KUBECONFIG, the workloads from the registry, these strategies. */
function remoteScenario(workloads: readonly string[], strategies: string[]): string {
  return (
    readFileSync('scenarios/k8s-nodes.yaml', 'utf8')
      .replace(/^\s+kubeconfig:.*\n/m, '')
      .replace(/^kubernetes:\n/m, `kubernetes:\n  images:\n${workloads.map((w) => `    ${w}: ${images[w]}\n`).join('')}`)
      .replace(/^workloads:[\s\S]*?^strategies:/m, `workloads:\n${workloads.map((w) => `  - type: ${w}\n`).join('')}strategies:`)
      .replace(/^strategies:[\s\S]*?^repetitions:.*$/m, ['strategies:', ...strategies, 'repetitions: 1'].join('\n'))
      .replace(/^\s+settleMs:.*$/m, '  settleMs: 1000')
      // 15 s: a trainer started afresh (drain, redeploy) imports Debian's PyTorch and loads its last
      // save before it answers; on a loaded 2-core host that took over 8 s once.
      .replace(/^\s+observeMs:.*$/m, '  observeMs: 15000')
  );
}

it('`images build --load lab` puts the three workloads into the lab registry, pinned by digest', { timeout: 900_000 }, async () => {
  const started = performance.now();
  images = await loadLabImages(WORKLOADS);
  expect(Object.keys(images).sort()).toEqual([...WORKLOADS].sort());
  process.stderr.write(`remote posture: images build --load lab took ${((performance.now() - started) / 1000).toFixed(1)} s\n${JSON.stringify(images)}\n`);
});

it('with only a kubeconfig: drain, redeploy and kubelet-checkpoint (import, registry) move each workload, state intact', { timeout: 900_000 }, async () => {
  expect(Object.keys(images), 'the images of the test before').toHaveLength(WORKLOADS.length);
  const { state, base } = cluster;
  const kubeconfig = standaloneKubeconfig(state.kubeconfig, base);
  const strategies = {
    drain: ['  - name: drain', '    gracePeriodSeconds: 5'],
    redeploy: ['  - name: redeploy', '    gracePeriodSeconds: 5'],
    'kubelet-checkpoint': ['  - kubelet-checkpoint'],
    'kubelet-checkpoint+registry': ['  - name: kubelet-checkpoint', '    delivery: registry', `    registry: ${LAB_REGISTRY}`, '    registryPlainHttp: true'],
  };
  // Every workload by every strategy, one run. (ml-training × redeploy was left out for a while: it
  // had not recovered within the window in 2 of 6 runs, before probing waited for an answer at the
  // window's end; 6/6 ok from the registry image on 2026-12-07, run 20261207T113719Z, ≈ 3.1 s each.)
  const runs: { workloads: string[]; strategies: (keyof typeof strategies)[] }[] = [
    { workloads: [...WORKLOADS], strategies: ['drain', 'redeploy', 'kubelet-checkpoint', 'kubelet-checkpoint+registry'] },
  ];
  const trials: Record<string, string>[] = [];
  let diagnose = '';
  for (const [i, planned] of runs.entries()) {
    const scenario = remoteScenario(
      planned.workloads,
      planned.strategies.flatMap((name) => strategies[name]),
    );
    expect(scenario).not.toMatch(/migbench-cluster|\/var\/cache\/migbench/);
    const file = join(base, `remote-${i}.yaml`);
    writeFileSync(file, scenario);
    const out = join(base, `results-${i}`);
    const run = await migbenchRemote(['run', file, '--warmup', '0', '--out', out, '--quiet'], kubeconfig, 860_000);
    process.stderr.write(`remote posture: run ${i} took ${run.seconds.toFixed(1)} s; ${/images present on .*/.exec(run.stderr)?.[0] ?? ''}\n`);
    const ran = csv(join(out, 'trials.csv'));
    diagnose = `\n${ran
      .filter((t) => t.status !== 'ok')
      .map((t) => `trial ${t.trial} ${t.workload} ${t.strategy}: ${t.failed_phase}: ${t.error}`)
      .join('\n')}\n--- stderr ---\n${run.stderr.slice(-6000)}`;
    expect(run.code, diagnose).toBe(0);
    expect(ran.map((t) => `${t.workload}/${t.strategy}`).sort()).toEqual(planned.workloads.flatMap((w) => planned.strategies.map((st) => `${w}/${st}`)).sort());
    trials.push(...ran);
  }
  expect(new Set(trials.map((t) => t.workload))).toEqual(new Set(WORKLOADS));
  const phases = ['checkpoint_api_ms', 'transfer_ms', 'image_build_ms', 'image_import_ms', 'image_push_ms', 'image_pull_ms', 'restore_ms', 'downtime_ms'];
  for (const t of trials) {
    const what = `${t.workload}/${t.strategy}`;
    expect(t.status, what + diagnose).toBe('ok');
    const checkpointed = t.strategy!.startsWith('kubelet-checkpoint');
    // A drain's replacement loads the AOF while the evicted Redis may still acknowledge writes (the
    // Deployment creates it at the eviction, not once the source is gone): 0 is required of the others.
    if (t.workload === 'redis' && t.strategy !== 'drain') expect(t.redis_acked_writes_lost, `${what}: acknowledged writes lost`).toBe('0');
    if (t.workload === 'redis') expect(Number(t.redis_acked_writes_lost), `${what}: acknowledged writes lost`).toBeGreaterThanOrEqual(0);
    if (t.workload === 'video') expect(Number(t.video_reconnect_ms), `${what}: the stream came back`).toBeGreaterThan(0);
    if (t.workload === 'ml-training') {
      const lost = Number(t.training_steps_lost);
      expect(lost, `${what}: steps lost`).toBeGreaterThanOrEqual(0);
      // A checkpoint restores the trainer where it stopped; a new pod resumes from its last saved step.
      expect(lost, `${what}: steps lost`).toBeLessThan(checkpointed ? 1 : SAVE_EVERY_STEPS);
    }
    if (t.strategy === 'kubelet-checkpoint') {
      expect(Number(t.image_import_ms), `${what}: imported`).toBeGreaterThan(0);
      expect(t.image_push_ms, what).toBe('');
    }
    if (t.strategy === 'kubelet-checkpoint+registry') {
      expect(Number(t.image_push_ms), `${what}: pushed`).toBeGreaterThan(0);
      expect(Number(t.image_pull_ms), `${what}: pulled by the kubelet`).toBeGreaterThan(0);
      expect(t.image_import_ms, what).toBe('');
    }
    if (checkpointed) process.stderr.write(`remote posture phases ${what}: ${phases.map((p) => `${p}=${t[p]}`).join(' ')}\n`);
  }
  // Every pushed checkpoint image deleted from the registry after its trial: no tag left in its repositories.
  const catalog = (await (await fetch(`http://${LAB_REGISTRY}/v2/_catalog`)).json()) as { repositories: string[] | null };
  const checkpointRepos = (catalog.repositories ?? []).filter((r) => r.startsWith('migbench-checkpoint/'));
  expect(checkpointRepos.length, 'a registry trial pushed its image').toBeGreaterThan(0);
  for (const repo of checkpointRepos) {
    const tags = await fetch(`http://${LAB_REGISTRY}/v2/${repo}/tags/list`);
    const listed = tags.ok ? (((await tags.json()) as { tags: string[] | null }).tags ?? []) : [];
    expect(listed, `${repo}: tags left in the registry`).toEqual([]);
  }
  expect(await migbenchObjectsIn(adminClients(state.kubeconfig), 'migbench')).toEqual([]);
  // Cleanup after a crash works from there too (the agents resume, remove, and answer through the API server).
  const cleanup = await migbenchRemote(['cleanup', '--platform', 'kubernetes', '--namespace', 'migbench'], kubeconfig, 120_000);
  expect(cleanup.code, cleanup.stderr).toBe(0);
});

it("the posture is enforced: the lab's own kubeconfig path is not there, and the run says so (exit 2)", { timeout: 120_000 }, async () => {
  const { state, base } = cluster;
  const kubeconfig = standaloneKubeconfig(state.kubeconfig, base);
  // scenarios/k8s-nodes.yaml names the lab's kubeconfig under /run/migbench-cluster: hidden in the posture.
  const run = await migbenchRemote(
    ['run', 'scenarios/k8s-nodes.yaml', '--reps', '1', '--warmup', '0', '--out', join(base, 'hidden'), '--quiet'],
    kubeconfig,
    100_000,
  );
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toContain(`no kubeconfig at ${state.kubeconfig}`);
  // The agent, as a user would check it: through the API server alone.
  const agent = await migbenchRemote(['agent', 'status'], kubeconfig, 60_000);
  expect(agent.code, agent.stderr).toBe(0);
  expect(agent.stdout).toMatch(/ready on 2\/2 nodes/);
});

it('a registry that cannot be reached fails the trial in its transfer, with the stopped source resumed and nothing left', { timeout: 300_000 }, async () => {
  const { state, base } = cluster;
  const kubeconfig = standaloneKubeconfig(state.kubeconfig, base);
  const unreachable = LAB_REGISTRY.replace(/:\d+$/, ':5001'); // the lab's address, a port where nothing listens
  const file = join(base, 'unreachable.yaml');
  writeFileSync(
    file,
    remoteScenario(['redis'], ['  - name: kubelet-checkpoint', '    delivery: registry', `    registry: ${unreachable}`, '    registryPlainHttp: true']),
  );
  const out = join(base, 'unreachable');
  const run = await migbenchRemote(['run', file, '--warmup', '0', '--out', out, '--quiet'], kubeconfig, 280_000);
  const trials = csv(join(out, 'trials.csv'));
  expect(
    trials.map((t) => `${t.status} ${t.failed_phase}`),
    run.stderr.slice(-4000),
  ).toEqual(['failed transfer']);
  expect(trials[0]!.error).toContain(unreachable);
  expect(trials[0]!.error).toMatch(/the source \S+ was resumed on worker-a/);
  expect(run.code).not.toBe(0);
  expect(await migbenchObjectsIn(adminClients(state.kubeconfig), 'migbench')).toEqual([]);
});
