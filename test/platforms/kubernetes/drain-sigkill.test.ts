// migbench SIGKILLed in the middle of a drain on a real control plane: no handler runs, so the
// source node stays cordoned and the trial's Deployment and pods stay. `migbench cleanup --platform
// kubernetes` must then uncordon the node and remove migbench's objects — and only those: an object
// of the same kinds without migbench's label, in the same namespace, is left alone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn, unschedulableNodes, type AdminClients } from './cluster-kit.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const NAMESPACE = 'default';
// Holds the drain (the Eviction API answers 429) so the kill lands while worker-a is cordoned.
const PDB = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'bystander-hold', namespace: NAMESPACE }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'migbench-video' } } } };
// Not migbench's: same kind as migbench's service, no part-of label. Cleanup must not touch it.
const BYSTANDER = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bystander', namespace: NAMESPACE }, spec: { ports: [{ port: 80 }], selector: { app: 'bystander' } } };

const cluster = useSimCluster();
let admin: AdminClients;
let base: string;

beforeAll(async () => {
  admin = adminClients(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-sigkill-`);
  await admin.objects.create(BYSTANDER);
});

afterAll(async () => {
  await admin?.objects.delete(PDB).catch(() => undefined);
  await admin?.objects.delete(BYSTANDER).catch(() => undefined);
  if (base) rmSync(base, { recursive: true, force: true });
});

it('SIGKILL during a drain: cleanup uncordons the node and removes only migbench\'s objects; the CSVs stay parseable', { timeout: 240_000 }, async () => {
  await admin.objects.create(PDB);
  const file = join(base, 'sigkill.yaml');
  writeFileSync(file, [
    'name: sigkill',
    'platform: kubernetes',
    `kubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: ${NAMESPACE}, probes: false, sourceNode: worker-a, targetNode: worker-b }`,
    'workloads: [{ type: video }]',
    'strategies: [{ name: drain, gracePeriodSeconds: 5 }]',
    'repetitions: 1',
    'timing: { settleMs: 300, observeMs: 300, readyTimeoutMs: 60000 }',
    '',
  ].join('\n'));
  const out = join(base, 'results');
  const child = spawn('sh', [`${root}/bin/migbench`, 'run', file, '--out', out, '--quiet'], { cwd: root, stdio: 'ignore' });
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
  await eventually('migbench\'s objects to be gone', 60_000, async () => (await migbenchObjectsIn(admin, NAMESPACE)).length === 0);
  // Not migbench's: still there.
  expect((await admin.core.readNamespacedService({ name: 'bystander', namespace: NAMESPACE })).metadata?.name).toBe('bystander');
  expect((await admin.objects.read(PDB)).metadata?.name).toBe('bystander-hold');

  // Headers only (no trial ended), but every file whole.
  for (const csv of ['trials.csv', 'samples.csv', 'events.csv']) expect(readFileSync(join(out, csv), 'utf8').endsWith('\n'), csv).toBe(true);
});
