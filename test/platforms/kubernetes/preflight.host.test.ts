// A cluster problem found before anything is created is bad input: exit 2, one message naming the
// field and the fix, and nothing created — checked against a real API server, one problem at a time,
// and several at once (every problem listed, not only the first).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn, unschedulableNodes, type AdminClients } from './cluster-kit.ts';

const cluster = useSimCluster();
let admin: AdminClients;
let base: string;

beforeAll(() => {
  admin = adminClients(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-preflight-`);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

function scenario(kubernetes: string, strategies = '[drain]'): string {
  const file = join(base, `s${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `platform: kubernetes\nkubernetes: { probes: false, ${kubernetes} }\nworkloads: [{ type: video }]\nstrategies: ${strategies}\nrepetitions: 1\n`,
  );
  return file;
}

it.each([
  [
    'a namespace that does not exist',
    'namespace: nowhere',
    '[drain]',
    /^migbench: kubernetes\.namespace: namespace "nowhere" does not exist on https:\/\/127\.0\.0\.1:\d+; create it \(kubectl create namespace nowhere\) or name another; nothing was created$/,
  ],
  [
    'draining the control-plane node',
    'namespace: default, sourceNode: control-plane',
    '[drain]',
    /^migbench: kubernetes\.sourceNode: control-plane is a control-plane node and the scenario drains it; name a worker, or set kubernetes\.forceControlPlane: true; nothing was created$/,
  ],
  [
    'a node the cluster does not have',
    'namespace: default, targetNode: worker-z',
    '[redeploy]',
    /^migbench: kubernetes\.targetNode: no node "worker-z" in the cluster \(nodes: control-plane, worker-a, worker-b\); nothing was created$/,
  ],
  [
    "podmigration without the operator's CRD",
    'namespace: default',
    '[podmigration]',
    /^migbench: strategies: podmigration: the cluster does not serve podmig\.dcn\.ssu\.ac\.kr\/v1 Podmigration \(.*\); install the podmigration-operator \(or at least its CRD: kubectl apply -f deploy\/kubernetes\/podmigration-crd\.yaml\); nothing was created$/,
  ],
  [
    'a context the kubeconfig does not have',
    'namespace: default, context: prod',
    '[drain]',
    /^migbench: kubernetes\.context: no context "prod" in .* \(it has: migbench-sim\); nothing was created$/,
  ],
])('refuses %s with exit 2 before creating anything', { timeout: 60_000 }, async (_, kubernetes, strategies, message) => {
  const run = await migbenchAsync(['run', scenario(kubernetes, strategies), '--kubeconfig', cluster.kubeconfig, '--out', join(base, 'out')]);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr.trim()).toMatch(message);
  expect(run.stdout).toBe('');
  expect(await migbenchObjectsIn(admin, 'default')).toEqual([]);
  expect(await unschedulableNodes(admin)).toEqual({});
});

it('lists every problem of a scenario at once, each on its own line', { timeout: 60_000 }, async () => {
  const run = await migbenchAsync([
    'run',
    scenario('namespace: default, sourceNode: control-plane', '[drain, { name: podmigration, api: resource }]'),
    '--kubeconfig',
    cluster.kubeconfig,
    '--out',
    join(base, 'out'),
  ]);
  expect(run.code, run.stderr).toBe(2);
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^migbench: kubernetes\.sourceNode: control-plane is a control-plane node and the scenario drains it; .*; nothing was created$/);
  expect(lines[1]).toMatch(
    /^migbench: strategies: podmigration: the cluster does not serve podmig\.dcn\.ssu\.ac\.kr\/v1 Podmigration .*; nothing was created$/,
  );
  expect(await migbenchObjectsIn(admin, 'default')).toEqual([]);
});

it('refuses a kubeconfig that is not there, naming the flag', async () => {
  const run = await migbenchAsync(['run', scenario('namespace: default'), '--kubeconfig', join(base, 'missing')]);
  expect(run.code).toBe(2);
  expect(run.stderr.trim()).toMatch(
    /^migbench: kubernetes\.kubeconfig: no kubeconfig at .*missing; set kubernetes\.kubeconfig \(or --kubeconfig\) to your cluster's kubeconfig; nothing was created$/,
  );
});
