// deploy/kubernetes/clusterrole.yaml is enough: the shipped scenario's drain, redeploy and
// podmigration trials all pass as a user who has nothing but those two roles (`migbench` bound in
// the namespace only, `migbench-nodes` cluster-wide) — a call the roles do not allow would fail a
// trial with HTTP 403. A drain with `controller: statefulset` too (a StatefulSet instead of a Deployment).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { PodmigrationOperatorDouble } from './podmigration-operator-double.ts';
import { adminClients, applyShipped, bindRole, impersonatingKubeconfig, migbenchAsync, unschedulableNodes, type AdminClients } from './cluster-kit.ts';

const cluster = useSimCluster();
let admin: AdminClients;
let operator: PodmigrationOperatorDouble;
let base: string;
let asRunner: string;

beforeAll(async () => {
  admin = adminClients(cluster.kubeconfig);
  await applyShipped(admin, 'clusterrole.yaml');
  await bindRole(admin, 'migbench-runner', 'migbench', 'default');
  await bindRole(admin, 'migbench-runner', 'migbench-nodes');
  operator = await PodmigrationOperatorDouble.installed(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-rbac-`);
  asRunner = impersonatingKubeconfig(cluster.kubeconfig, 'migbench-runner', join(base, 'kubeconfig'));
});

afterAll(async () => {
  await operator?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

it('runs every trial of scenarios/k8s-sim.yaml with only the shipped ClusterRoles, and cleans up with them', { timeout: 300_000 }, async () => {
  const out = join(base, 'results');
  const run = await migbenchAsync(['run', 'scenarios/k8s-sim.yaml', '--kubeconfig', asRunner, '--out', out, '--quiet'], 240_000);
  const trials = parse(readFileSync(join(out, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  expect(
    trials.filter((t) => t.status !== 'ok').map((t) => `${t.strategy}: ${t.error}`),
    run.stderr,
  ).toEqual([]);
  expect(run.code).toBe(0);
  expect(trials).toHaveLength(6);
  expect(await unschedulableNodes(admin)).toEqual({});
  // The same user may clean up (and is refused outside what the roles allow: another namespace).
  expect(await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', asRunner, '--namespace', 'default'])).toMatchObject({ code: 0 });
  const elsewhere = await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', asRunner, '--namespace', 'kube-system']);
  expect(elsewhere.code).toBe(2);
  expect(elsewhere.stderr).toMatch(/not allowed in namespace kube-system \(HTTP 403: .*\); bind the migbench ClusterRole/);
});

it('runs a drain with controller: statefulset with only the shipped ClusterRoles', { timeout: 180_000 }, async () => {
  const file = join(base, 'statefulset.yaml');
  writeFileSync(
    file,
    readFileSync('scenarios/k8s-sim.yaml', 'utf8').replace(
      /^strategies:[\s\S]*?^repetitions:.*$/m,
      'strategies:\n  - name: drain\n    gracePeriodSeconds: 5\n    controller: statefulset\nrepetitions: 1',
    ),
  );
  const out = join(base, 'statefulset');
  const run = await migbenchAsync(['run', file, '--kubeconfig', asRunner, '--out', out, '--quiet'], 120_000);
  const trials = parse(readFileSync(join(out, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  expect(
    trials.map((t) => `${t.strategy}: ${t.status} ${t.error}`),
    run.stderr,
  ).toEqual(['drain: ok ']);
  expect(run.code).toBe(0);
  expect(await unschedulableNodes(admin)).toEqual({});
});
