// podmigration through the operator's REST API (`api: rest`): migbench POSTs /Podmigrations
// {name, action, sourcePod, destHost, snapshotPath} to the operator's api-server — here the test
// double's (test/platforms/kubernetes/podmigration-operator-double.ts), which, like the real one,
// creates the Podmigration in namespace default on the real API server and then acts on it — and
// detects completion on the pods, as with `api: resource`. The resource the REST API made (no
// labels) is deleted by the trial's teardown.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { PodmigrationOperatorDouble } from '../../platforms/kubernetes/podmigration-operator-double.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn, type AdminClients } from '../../platforms/kubernetes/cluster-kit.ts';

const cluster = useSimCluster();
let admin: AdminClients;
let operator: PodmigrationOperatorDouble;
let restUrl: string;
let base: string;

beforeAll(async () => {
  admin = adminClients(cluster.kubeconfig);
  operator = await PodmigrationOperatorDouble.installed(cluster.kubeconfig);
  restUrl = await operator.serveRestApi();
  base = mkdtempSync(`${tmpdir()}/migbench-podmig-rest-`);
});

afterAll(async () => {
  await operator?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

it('asks the operator over its REST API and detects the restored pod on the target node', { timeout: 120_000 }, async () => {
  const file = join(base, 'rest.yaml');
  writeFileSync(
    file,
    [
      'platform: kubernetes',
      `kubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: default, probes: false, sourceNode: worker-b, targetNode: worker-a }`,
      'workloads: [{ type: video }]',
      `strategies: [{ name: podmigration, api: rest, restUrl: '${restUrl}', snapshotPath: /mnt/nfs/checkpoints }]`,
      'repetitions: 2',
      'timing: { settleMs: 200, observeMs: 200 }',
      '',
    ].join('\n'),
  );
  const out = join(base, 'out');
  const run = await migbenchAsync(['run', file, '--out', out, '--quiet']);
  expect(run.code, run.stderr + readFileSafe(join(out, 'trials.csv'))).toBe(0);
  expect(operator.errors).toEqual([]);
  expect(operator.seen.map((s) => s.spec)).toEqual(
    [0, 1].map(() =>
      expect.objectContaining({ action: 'live-migration', sourcePod: 'migbench-video', destHost: 'worker-a', snapshotPath: '/mnt/nfs/checkpoints' }),
    ),
  );
  const trials = parse(readFileSync(join(out, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  for (const t of trials) expect(Number(t.pod_ready_ms)).toBeGreaterThan(0);
  const events = parse(readFileSync(join(out, 'events.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  expect(events.filter((e) => e.event === 'requested').map((e) => e.detail)).toEqual(
    trials.map(() => expect.stringMatching(/^migbench-video-\d+-\w+: migbench-video -> worker-a \(rest\)$/)),
  );
  // The REST-made Podmigrations are gone with the trials.
  expect(await migbenchObjectsIn(admin, 'default')).toEqual([]);
});

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
