// `--dry-run` prints the calls that would change the cluster and makes none. Proof by permission:
// the dry run runs as a user who may only read (get, list, watch), so any mutating call it made
// would be refused (403) and fail the run — and afterwards the cluster is as it was.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import {
  adminClients,
  applyShipped,
  bindRole,
  impersonatingKubeconfig,
  migbenchAsync,
  migbenchObjectsIn,
  unschedulableNodes,
  type AdminClients,
} from './cluster-kit.ts';

const cluster = useSimCluster();
let admin: AdminClients;
let readOnly: string;
let base: string;

beforeAll(async () => {
  admin = adminClients(cluster.kubeconfig);
  await applyShipped(admin, 'podmigration-crd.yaml');
  await admin.objects.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'migbench-test-read-only' },
    rules: [{ apiGroups: ['', 'apps', 'podmig.dcn.ssu.ac.kr'], resources: ['*'], verbs: ['get', 'list', 'watch'] }],
  } as any);
  await bindRole(admin, 'dry-runner', 'migbench-test-read-only');
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-dry-`);
  readOnly = impersonatingKubeconfig(cluster.kubeconfig, 'dry-runner', join(base, 'kubeconfig'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

it('prints every mutating call of drain, redeploy and podmigration with its verb, path and body summary, and makes none', { timeout: 120_000 }, async () => {
  const run = await migbenchAsync(['run', 'scenarios/k8s-sim.yaml', '--dry-run', '--kubeconfig', readOnly]);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const lines = run.stdout.split('\n');
  const has = (pattern: RegExp) =>
    expect(
      lines.some((l) => pattern.test(l)),
      `${pattern}\n${run.stdout}`,
    ).toBe(true);
  has(
    /^ {2}PATCH \/apis\/apps\/v1\/namespaces\/default\/deployments\/migbench-video\?fieldManager=migbench&force=true {2}server-side apply Deployment migbench-video: .*nodes worker-a\|worker-b/,
  );
  has(/^ {2}PATCH \/api\/v1\/nodes\/worker-a {2}merge patch spec.unschedulable=true \(cordon worker-a\)/);
  has(/^ {2}POST \/api\/v1\/namespaces\/default\/pods\/<pod of Deployment migbench-video>\/eviction {2}evict pod/);
  has(/^ {2}PATCH \/api\/v1\/nodes\/worker-a {2}merge patch spec.unschedulable=false \(uncordon worker-a\)/);
  has(/^ {2}DELETE \/api\/v1\/namespaces\/default\/pods\/migbench-video {2}delete Pod migbench-video gracePeriodSeconds=5/);
  has(/^ {2}POST \/api\/v1\/namespaces\/default\/pods {2}create Pod migbench-video: .*nodes worker-b$/);
  has(
    /^ {2}POST \/apis\/podmig.dcn.ssu.ac.kr\/v1\/namespaces\/default\/podmigrations {2}create Podmigration migbench-video-\d+-\w+: .*spec \{"action":"live-migration","sourcePod":"migbench-video","destHost":"worker-b","snapshotPath":"\/var\/lib\/kubelet\/migration"\}/,
  );
  // Only descriptions of calls, no reads, no results.
  expect(lines.filter((l) => l.startsWith('  ') && !/^ {2}(POST|PATCH|DELETE) \//.test(l))).toEqual([]);
  expect(run.stdout).not.toContain('dry run stopped');

  // Nothing changed (the read-only user could not have changed anything; this checks the premise).
  expect(await migbenchObjectsIn(admin, 'default')).toEqual([]);
  expect(await unschedulableNodes(admin)).toEqual({});
  const denied = await migbenchAsync([
    'run',
    'scenarios/k8s-sim.yaml',
    '--strategies',
    'drain',
    '--kubeconfig',
    readOnly,
    '--quiet',
    '--out',
    join(base, 'real'),
  ]);
  expect(denied.code).toBe(1);
  expect(readFileSync(join(base, 'real', 'trials.csv'), 'utf8')).toMatch(
    /,failed,"PATCH \/api\/v1\/namespaces\/default\/services\/migbench-video: HTTP 403: .*cannot patch resource/,
  );
});
