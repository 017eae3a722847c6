// An evacuation on a cluster (the simulated control plane: real API server, scheduler and
// controllers, kwok's pods — no app probes), as `kubectl drain` does it: worker-a loaded with 3 pods
// of 2 workloads, each its own Deployment and Service named with the run and its trial; worker-a
// cordoned once by the evacuation (never by each pod's drain), every pod evicted through the Eviction
// API — a PodDisruptionBudget's 429 retried until it allows it — and each replacement placed by the
// scheduler over worker-b and worker-c, its placement recorded as the row's evacuation_target;
// worker-a uncordoned at the end, nothing of migbench's left. redeploy to named targets, all at once,
// pins pod i to targets[i mod n]. Ctrl-C mid-evacuation uncordons worker-a and leaves nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { migbenchDetached, runDiagnosis } from '../../helpers/cli.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn, unschedulableNodes, type AdminClients } from './cluster-kit.ts';

const NAMESPACE = 'default';
const cluster = useSimCluster({ workers: ['worker-a', 'worker-b', 'worker-c'] });
let admin: AdminClients;
let base: string;

beforeAll(() => {
  admin = adminClients(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-evacuate-`);
});
afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

function scenario(name: string, strategies: string, evacuate: string): string {
  const file = join(base, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'platform: kubernetes',
      `kubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: ${NAMESPACE}, probes: false, sourceNode: worker-a }`,
      // Two workloads of one type (the simulated cluster has no StorageClass for Redis' claim).
      'workloads: [{ type: video, name: camera }, { type: video, name: screen }]',
      `strategies: ${strategies}`,
      `evacuate: ${evacuate}`,
      'repetitions: 1',
      'timing: { settleMs: 200, observeMs: 200, readyTimeoutMs: 60000 }',
      '',
    ].join('\n'),
  );
  return file;
}

const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
const cordoned = async (node: string) => (await admin.core.readNode({ name: node })).spec?.unschedulable === true;

it('drains worker-a of 3 pods, 2 at once: one cordon, evictions through a PodDisruptionBudget, the scheduler placing each replacement', {
  timeout: 240_000,
}, async () => {
  // Allows no disruption of any video pod until it is deleted: their evictions are refused (429) and retried.
  const pdb = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'migbench-test-no-disruption', namespace: NAMESPACE },
    spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'migbench-video' } } },
  };
  await admin.objects.create(pdb);
  const out = join(base, 'drain');
  const run = migbenchAsync(
    [
      'run',
      scenario(
        'evacuate-drain',
        '[{ name: drain, gracePeriodSeconds: 2 }]',
        '{ pods: [{ workload: camera, count: 2 }, { workload: screen }], concurrency: 2 }',
      ),
      '--out',
      out,
      '--quiet',
    ],
    180_000,
  );
  await eventually('the evacuation to cordon worker-a', 90_000, () => cordoned('worker-a'));
  await new Promise((r) => setTimeout(r, 1_500)); // a few refused evictions
  await admin.objects.delete(pdb);
  const { code, stdout, stderr } = await run;
  expect(code, runDiagnosis(out, { stdout, stderr })).toBe(0);

  const trials = csv(join(out, 'trials.csv'));
  expect(trials.map((t) => t.evacuation_pod)).toEqual(['camera-p1', 'camera-p2', 'screen-p1']);
  for (const t of trials) {
    expect(t, `trial ${t.trial}: ${t.error}`).toMatchObject({ status: 'ok', strategy: 'drain', evacuation: '1', evacuation_pods: '3', concurrency: '2' });
    // Where the scheduler put the replacement: one of the other workers, never the cordoned source.
    expect(['worker-b', 'worker-c']).toContain(t.evacuation_target);
  }
  const [summary] = csv(join(out, 'evacuations.csv'));
  expect(summary).toMatchObject({ evacuation: '1', strategy: 'drain', pods: '3', concurrency: '2', pods_failed: '0', bytes_moved: '0' });
  expect(summary!.targets!.split(' ').sort()).toEqual([...new Set(trials.map((t) => t.evacuation_target))].sort());

  const events = csv(join(out, 'events.csv'));
  const of = (trial: string) => events.filter((e) => e.trial === trial).map((e) => `${e.source} ${e.event}`);
  for (const t of trials) {
    const own = of(t.trial!);
    // The evacuation's cordon, once, before any eviction; no drain cordons or uncordons the node itself.
    expect(
      own.filter((e) => e === 'evacuation node_cordoned'),
      own.join('\n'),
    ).toHaveLength(1);
    expect(own.filter((e) => e.startsWith('strategy:drain node_'))).toEqual([]);
    expect(own.indexOf('evacuation node_cordoned')).toBeLessThan(own.indexOf('strategy:drain evicted'));
    expect(own.indexOf('evacuation node_uncordoned')).toBeGreaterThan(own.indexOf('strategy:drain source_deleted'));
    // Each pod its own objects: the Deployment's pod name carries the run's start and the trial.
    const ready = events.find((e) => e.trial === t.trial && e.source === 'trial' && e.event === 'pod_ready')!;
    expect(ready.detail).toMatch(new RegExp(`^migbench-video-\\d{8}t\\d{6}z-${t.trial}-.* on worker-a$`));
  }
  expect(of(trials[0]!.trial!)).toContain('strategy:drain eviction_blocked');
  expect(await unschedulableNodes(admin)).toEqual({});
  await eventually("the evacuation's objects to be gone", 30_000, async () => (await migbenchObjectsIn(admin, NAMESPACE)).length === 0);
});

it('redeploys 3 pods all at once to named targets, pod i to targets[i mod 2]', { timeout: 180_000 }, async () => {
  const out = join(base, 'redeploy');
  const { code, stdout, stderr } = await migbenchAsync(
    [
      'run',
      scenario(
        'evacuate-redeploy',
        '[{ name: redeploy, gracePeriodSeconds: 1 }]',
        '{ pods: [{ workload: camera, count: 2 }, { workload: screen }], concurrency: all, targets: [worker-c, worker-b] }',
      ),
      '--out',
      out,
      '--quiet',
    ],
    150_000,
  );
  expect(code, runDiagnosis(out, { stdout, stderr })).toBe(0);
  const trials = csv(join(out, 'trials.csv'));
  expect(trials.map((t) => [t.evacuation_pod, t.status, t.concurrency, t.evacuation_target])).toEqual([
    ['camera-p1', 'ok', '3', 'worker-c'],
    ['camera-p2', 'ok', '3', 'worker-b'],
    ['screen-p1', 'ok', '3', 'worker-c'],
  ]);
  expect(csv(join(out, 'evacuations.csv'))[0]).toMatchObject({ pods: '3', concurrency: '3', pods_failed: '0', targets: 'worker-c worker-b' });
  expect(await unschedulableNodes(admin)).toEqual({});
  await eventually("the evacuation's objects to be gone", 30_000, async () => (await migbenchObjectsIn(admin, NAMESPACE)).length === 0);
});

it('Ctrl-C while the evacuation waits on a PodDisruptionBudget: exit 130, every pod a failed row, worker-a uncordoned, nothing left', {
  timeout: 180_000,
}, async () => {
  const pdb = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'migbench-test-no-disruption', namespace: NAMESPACE },
    spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'migbench-video' } } },
  };
  await admin.objects.create(pdb);
  const out = join(base, 'interrupted');
  const run = migbenchDetached([
    'run',
    scenario(
      'evacuate-interrupt',
      '[{ name: drain, gracePeriodSeconds: 2 }]',
      '{ pods: [{ workload: camera, count: 2 }, { workload: screen }], concurrency: 2 }',
    ),
    '--out',
    out,
  ]);
  try {
    await run.until('the evacuation to cordon worker-a', 90_000, async () => ((await cordoned('worker-a')) ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_000)); // refused evictions
    run.signalGroup('SIGINT');
    const { code } = await run.exited;
    expect(code, run.diagnose()).toBe(130);
  } finally {
    run.kill();
    await admin.objects.delete(pdb).catch(() => undefined);
  }
  const trials = csv(join(out, 'trials.csv'));
  expect(trials.map((t) => [t.evacuation_pod, t.status, t.failed_phase])).toEqual([
    ['camera-p1', 'failed', 'migrate'],
    ['camera-p2', 'failed', 'migrate'],
    ['screen-p1', 'failed', 'migrate'],
  ]);
  for (const t of trials) expect(t.error).toContain('interrupted (SIGINT)');
  expect(csv(join(out, 'evacuations.csv'))[0]).toMatchObject({ pods: '3', pods_failed: '3', total_ms: '' });
  expect(await unschedulableNodes(admin)).toEqual({});
  await eventually("the evacuation's objects to be gone", 30_000, async () => (await migbenchObjectsIn(admin, NAMESPACE)).length === 0);
});
