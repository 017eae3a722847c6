// `migbench cleanup --platform kubernetes` after a crash: a run killed with SIGKILL in the middle of
// a drain (no teardown ran) leaves its Deployment, Service and pods and a cordoned node. Cleanup
// removes exactly those and uncordons exactly that node: an unrelated Deployment in the same
// namespace and a node someone else cordoned stay as they were. Run twice, it finds nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn, type AdminClients } from './cluster-kit.ts';
import { argsForAttempt } from '../../helpers/attempt.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const cluster = useSimCluster({ workers: ['worker-a', 'worker-b', 'worker-c'] });
let admin: AdminClients;
let base: string;
const PDB = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'hold-drain', namespace: 'default' },
  spec: { minAvailable: 1, selector: { matchLabels: { app: 'migbench-video' } } },
};
const UNRELATED = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'someone-elses', namespace: 'default', labels: { app: 'someone-elses' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'someone-elses' } },
    template: { metadata: { labels: { app: 'someone-elses' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
  },
};

beforeAll(() => {
  admin = adminClients(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-cleanup-`);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const cordoned = async (node: string) => (await admin.core.readNode({ name: node })).spec?.unschedulable === true;

it('removes what a crashed run left and uncordons the node it cordoned, and nothing else', { timeout: 180_000 }, async () => {
  await admin.objects.create(UNRELATED as any);
  await admin.objects.create(PDB as any);
  await admin.objects.patch(
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-c' }, spec: { unschedulable: true } } as any,
    undefined,
    undefined,
    'someone-else',
    undefined,
    'application/merge-patch+json',
  );
  const file = join(base, 'crash.yaml');
  writeFileSync(
    file,
    `platform: kubernetes\nkubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: default, probes: false, sourceNode: worker-a, targetNode: worker-b }\nworkloads: [{ type: video }]\nstrategies: [drain]\nrepetitions: 1\n`,
  );
  const child = spawn('sh', [`${root}/bin/migbench`, ...argsForAttempt(['run', file, '--out', join(base, 'out'), '--quiet'])], {
    cwd: root,
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise((done) => child.on('close', done));
  await eventually('the drain to cordon worker-a', 60_000, () => cordoned('worker-a'));
  process.kill(-child.pid!, 'SIGKILL'); // a crash: no teardown, no uncordon
  await exited;
  await admin.objects.delete(PDB as any);
  expect(await cordoned('worker-a')).toBe(true);
  expect((await migbenchObjectsIn(admin, 'default')).filter((o) => !o.startsWith('Pod/') && !o.startsWith('ReplicaSet/')).sort()).toEqual([
    'Deployment/migbench-video',
    'Service/migbench-video',
  ]);

  const cleanup = await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', cluster.kubeconfig, '--namespace', 'default']);
  expect(cleanup.code, cleanup.stderr).toBe(0);
  expect(cleanup.stdout).toContain('Deployment default/migbench-video');
  expect(cleanup.stdout).toContain('Service default/migbench-video');
  expect(cleanup.stdout).toContain('cordon of node worker-a (uncordoned)');

  expect(await cordoned('worker-a')).toBe(false);
  expect(await cordoned('worker-c')).toBe(true); // not migbench's to undo
  await eventually("migbench's objects to be gone", 30_000, async () => (await migbenchObjectsIn(admin, 'default')).length === 0);
  expect((await admin.objects.list('apps/v1', 'Deployment', 'default')).items.map((d) => d.metadata!.name)).toEqual(['someone-elses']);
  expect(await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', cluster.kubeconfig, '--namespace', 'default'])).toMatchObject({
    code: 0,
    stdout: 'migbench cleanup: nothing to remove\n',
  });
});
