// Two runs share one cluster, each in its own namespace, at the same time: run A on the first two
// workers by name, run B on a pool of its own picked by kubernetes.nodeSelector (a pair other than the
// first two). Both complete; neither's pods ever run on the other's nodes or carry the other's run id;
// each cordon names the namespace of the run that made it; and `migbench cleanup` of one namespace
// leaves a cordon of a run in another namespace alone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Watch, type V1Node } from '@kubernetes/client-node';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn, unschedulableNodes, type AdminClients } from './cluster-kit.ts';

const cluster = useSimCluster({ workers: ['worker-a', 'worker-b', 'worker-c', 'worker-d'] });
let admin: AdminClients;
let base: string;
const CORDONED_BY = 'migbench.io/cordoned-by';

beforeAll(async () => {
  admin = adminClients(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-shared-`);
  for (const namespace of ['run-a', 'run-b']) await admin.core.createNamespace({ body: { metadata: { name: namespace } } });
  for (const node of ['worker-c', 'worker-d']) {
    await admin.objects.patch(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { pool: 'b' } } } as any,
      undefined,
      undefined,
      'migbench-test',
      undefined,
      'application/merge-patch+json',
    );
  }
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

function scenario(name: string, placement: string): string {
  const file = join(base, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'platform: kubernetes',
      `kubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: ${name}, probes: false, ${placement} }`,
      'workloads: [{ type: video }]',
      'strategies: [{ name: drain, gracePeriodSeconds: 1 }, { name: redeploy, gracePeriodSeconds: 1 }]',
      'repetitions: 2',
      'warmup: 0',
      '',
    ].join('\n'),
  );
  return file;
}

it("runs two runs in two namespaces at once: both ok, neither touches the other's pods, nodes or cordons", { timeout: 300_000 }, async () => {
  const runs = [
    { namespace: 'run-a', nodes: ['worker-a', 'worker-b'], file: scenario('run-a', 'sourceNode: worker-a, targetNode: worker-b') },
    { namespace: 'run-b', nodes: ['worker-c', 'worker-d'], file: scenario('run-b', 'nodeSelector: { pool: b }') },
  ];
  // What each namespace's pods were, every 100 ms while the runs go on, and every cordon the nodes
  // got — watched, not polled: on the simulated nodes a drain's cordon can be shorter than one poll.
  const seen = { pods: new Map<string, Set<string>>(), runIds: new Map<string, Set<string>>(), cordons: new Set<string>() };
  const nodeWatch = await new Watch(admin.kubeConfig).watch(
    '/api/v1/nodes',
    {},
    (_type: string, node: V1Node) => {
      const owner = node.metadata?.annotations?.[CORDONED_BY];
      if (owner && node.spec?.unschedulable) seen.cordons.add(`${node.metadata!.name} ${owner.slice(0, owner.indexOf('/'))}`);
    },
    () => {},
  );
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const { namespace } of runs) {
        for (const pod of (await admin.core.listNamespacedPod({ namespace })).items) {
          if (pod.spec?.nodeName) (seen.pods.get(namespace) ?? seen.pods.set(namespace, new Set()).get(namespace)!).add(pod.spec.nodeName);
          const runId = pod.metadata?.labels?.['migbench.io/run'];
          if (runId) (seen.runIds.get(namespace) ?? seen.runIds.set(namespace, new Set()).get(namespace)!).add(runId);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const results = await Promise.all(runs.map((r) => migbenchAsync(['run', r.file, '--out', join(base, r.namespace), '--quiet'], 280_000)));
  watching = false;
  await watcher;
  nodeWatch.abort();

  runs.forEach((run, i) => {
    const trials = csv(join(base, run.namespace, 'trials.csv'));
    const failures = trials
      .filter((t) => t.status !== 'ok')
      .map((t) => `${t.strategy}: ${t.failed_phase}: ${t.error}`)
      .join('\n');
    expect(results[i]!.code, `${run.namespace}\n${failures}\n${results[i]!.stderr}`).toBe(0);
    expect(trials.map((t) => t.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    // Its pods on its own nodes only, all of one run (its own).
    expect([...seen.pods.get(run.namespace)!].sort(), run.namespace).toEqual(run.nodes);
    expect(seen.runIds.get(run.namespace)!.size, run.namespace).toBe(1);
  });
  expect(seen.runIds.get('run-a')).not.toEqual(seen.runIds.get('run-b'));
  // Each drain (two per run) cordoned one of its own run's nodes (its events say so), and every cordon
  // the watch saw was marked with the namespace of the run it belongs to.
  runs.forEach((run) => {
    const cordoned = csv(join(base, run.namespace, 'events.csv'))
      .filter((e) => e.event === 'node_cordoned')
      .map((e) => e.detail);
    expect(cordoned.length, run.namespace).toBe(2);
    for (const node of cordoned) expect(run.nodes, run.namespace).toContain(node);
  });
  expect(seen.cordons.size).toBeGreaterThan(0);
  const ownCordons = runs.flatMap((r) => r.nodes.map((n) => `${n} ${r.namespace}`));
  for (const cordon of seen.cordons) expect(ownCordons).toContain(cordon);
  expect(await unschedulableNodes(admin)).toEqual({});
  for (const { namespace } of runs) expect(await migbenchObjectsIn(admin, namespace)).toEqual([]);
});

it("migbench cleanup of one namespace uncordons its runs' cordons only, not another namespace's run's", { timeout: 120_000 }, async () => {
  const cordon = (node: string, owner: string) =>
    admin.objects.patch(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: node, annotations: { [CORDONED_BY]: owner } }, spec: { unschedulable: true } } as any,
      undefined,
      undefined,
      'migbench-test',
      undefined,
      'application/merge-patch+json',
    );
  await cordon('worker-a', 'run-a/20261206T000000Z-run-a');
  await cordon('worker-c', 'run-b/20261206T000000Z-run-b');
  const cleanup = await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', cluster.kubeconfig, '--namespace', 'run-a']);
  expect(cleanup.code, cleanup.stderr).toBe(0);
  expect(cleanup.stdout).toContain('cordon of node worker-a (uncordoned)');
  expect(await unschedulableNodes(admin)).toEqual({ 'worker-c': 'cordoned, migbench cordon annotation' });
  expect((await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', cluster.kubeconfig, '--namespace', 'run-b'])).stdout).toContain(
    'cordon of node worker-c (uncordoned)',
  );
  expect(await unschedulableNodes(admin)).toEqual({});
});
