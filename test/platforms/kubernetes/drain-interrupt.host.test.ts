// Drain on a real control plane, where it can block: a PodDisruptionBudget that allows no
// disruption makes the Eviction API answer 429, and the drain keeps retrying (as kubectl drain does)
// with the source node cordoned. Two behaviours follow from that, each tested through the real CLI:
//   - Ctrl-C (SIGINT to the CLI's process group) during that wait exits 130, records the interrupted
//     trial, deletes what the trial created and leaves every node schedulable;
//   - once the budget allows it, the same drain goes on and completes;
//   - SIGKILL during that wait (no handler runs: the node stays cordoned, the trial's objects stay),
//     then `migbench cleanup --platform kubernetes` uncordons the node and removes migbench's
//     objects — and only those: an object of the same kind without migbench's label stays.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { migbenchDetached, type DetachedMigbench } from '../../helpers/cli.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn, unschedulableNodes, type AdminClients } from './cluster-kit.ts';
import { argsForAttempt } from '../../helpers/attempt.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const NAMESPACE = 'default';
const PDB = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'migbench-test-no-disruption', namespace: NAMESPACE },
  spec: { minAvailable: 1, selector: { matchLabels: { app: 'migbench-video' } } },
};

// Not migbench's: same kind as migbench's service, no part-of label. Cleanup must not touch it.
const BYSTANDER = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'bystander', namespace: NAMESPACE },
  spec: { ports: [{ port: 80 }], selector: { app: 'bystander' } },
};

const cluster = useSimCluster();
let admin: AdminClients;
let base: string;
let child: DetachedMigbench | undefined;

beforeAll(() => {
  admin = adminClients(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-drain-`);
});

afterEach(async () => {
  child?.kill();
  child = undefined;
  await admin.objects.delete(PDB).catch(() => undefined);
  await admin.objects.delete(BYSTANDER).catch(() => undefined);
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

function scenario(name: string): string {
  const file = join(base, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'platform: kubernetes',
      `kubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: ${NAMESPACE}, probes: false, sourceNode: worker-a, targetNode: worker-b }`,
      'workloads: [{ type: video }]',
      'strategies: [{ name: drain, gracePeriodSeconds: 5 }]',
      'repetitions: 1',
      'timing: { settleMs: 300, observeMs: 300, readyTimeoutMs: 60000 }',
      '',
    ].join('\n'),
  );
  return file;
}

const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
const cordoned = async (node: string) => (await admin.core.readNode({ name: node })).spec?.unschedulable === true;

it('Ctrl-C while a drain waits on a PodDisruptionBudget exits 130, uncordons the node and removes what the trial created', { timeout: 180_000 }, async () => {
  await admin.objects.create(PDB);
  const out = join(base, 'interrupted');
  child = migbenchDetached(['run', scenario('drain-interrupt'), '--out', out]);
  const output = child.diagnose;

  // The drain is under way: worker-a cordoned by migbench, the pod still there (the budget refuses its eviction).
  await eventually('the drain to cordon worker-a', 60_000, () => cordoned('worker-a'));
  await new Promise((r) => setTimeout(r, 1_500)); // a few refused evictions
  expect((await admin.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=migbench-video' })).items).toHaveLength(1);
  const interruptedAt = performance.now();
  child.signalGroup('SIGINT');
  const { code } = await child.exited;
  expect(code, output()).toBe(130);
  expect(performance.now() - interruptedAt, 'exit soon after SIGINT').toBeLessThan(20_000);

  // Every node schedulable, nothing of the trial left (the budget is the test's own).
  expect(await unschedulableNodes(admin)).toEqual({});
  await eventually("the trial's pods to be gone", 30_000, async () => (await migbenchObjectsIn(admin, NAMESPACE)).length === 0);

  const [trial] = csv(join(out, 'trials.csv'));
  expect(trial).toMatchObject({ strategy: 'drain', status: 'failed', failed_phase: 'migrate' });
  expect(trial!.error).toContain('interrupted (SIGINT)');
  const events = csv(join(out, 'events.csv')).map((e) => `${e.source} ${e.event}`);
  const at = (e: string) => events.indexOf(e);
  expect(at('strategy:drain node_cordoned'), events.join('\n')).toBeGreaterThan(at('trial trigger'));
  expect(at('strategy:drain eviction_blocked')).toBeGreaterThan(at('strategy:drain node_cordoned'));
  expect(at('strategy:drain node_uncordoned')).toBeGreaterThan(at('strategy:drain eviction_blocked'));
  expect(at('trial failed')).toBeGreaterThan(at('strategy:drain node_uncordoned'));
  expect(events).not.toContain('strategy:drain evicted');
});

it('retries an eviction a PodDisruptionBudget refuses (429) and completes the drain once the budget allows it', { timeout: 180_000 }, async () => {
  await admin.objects.create(PDB);
  const out = join(base, 'budget');
  const run = migbenchAsync(['run', scenario('drain-budget'), '--out', out, '--quiet'], 120_000);
  await eventually('the drain to cordon worker-a', 60_000, () => cordoned('worker-a'));
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await cordoned('worker-a')).toBe(true);
  await admin.objects.delete(PDB);
  const { code, stdout, stderr } = await run;
  expect(code, `${stdout}\n${stderr}`).toBe(0);
  const [trial] = csv(join(out, 'trials.csv'));
  expect(trial).toMatchObject({ status: 'ok' });
  // The wait on the budget is part of the migration.
  expect(Number(trial!.migration_ms)).toBeGreaterThan(1_500);
  const drain = csv(join(out, 'events.csv'))
    .filter((e) => e.source === 'strategy:drain')
    .map((e) => e.event);
  expect(drain).toEqual(['node_cordoned', 'eviction_blocked', 'evicted', 'ready', 'source_deleted', 'node_uncordoned']);
  expect(await unschedulableNodes(admin)).toEqual({});
});

it("SIGKILL during a drain: cleanup uncordons the node and removes only migbench's objects; the CSVs stay parseable", { timeout: 240_000 }, async () => {
  await admin.objects.create(PDB);
  await admin.objects.create(BYSTANDER);
  const out = join(base, 'killed');
  const child = spawn('sh', [`${root}/bin/migbench`, ...argsForAttempt(['run', scenario('drain-sigkill'), '--out', out, '--quiet'])], {
    cwd: root,
    stdio: 'ignore',
  });
  const exited = new Promise<string | null>((done) => child.on('exit', (_code, signal) => done(signal)));
  try {
    await eventually('the drain to cordon worker-a', 90_000, async () => (await unschedulableNodes(admin))['worker-a'] !== undefined);
    await new Promise((r) => setTimeout(r, 1_000));
  } finally {
    child.kill('SIGKILL'); // bin/migbench execs node: this is migbench itself
  }
  expect(await exited).toBe('SIGKILL');
  // What the kill left.
  expect(await unschedulableNodes(admin)).toHaveProperty('worker-a');
  expect((await migbenchObjectsIn(admin, NAMESPACE)).length).toBeGreaterThan(0);

  const cleanup = await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--namespace', NAMESPACE, '--kubeconfig', cluster.kubeconfig], 120_000);
  expect(cleanup.code, `${cleanup.stdout}\n${cleanup.stderr}`).toBe(0);
  expect(await unschedulableNodes(admin)).toEqual({});
  await eventually("migbench's objects to be gone", 60_000, async () => (await migbenchObjectsIn(admin, NAMESPACE)).length === 0);
  // Not migbench's: still there.
  expect((await admin.core.readNamespacedService({ name: 'bystander', namespace: NAMESPACE })).metadata?.name).toBe('bystander');
  expect((await admin.objects.read(PDB)).metadata?.name).toBe(PDB.metadata.name);
  await admin.objects.delete(BYSTANDER);

  // Headers only (no trial ended), but every file whole.
  for (const csv of ['trials.csv', 'samples.csv', 'events.csv']) expect(readFileSync(join(out, csv), 'utf8').endsWith('\n'), csv).toBe(true);
});
