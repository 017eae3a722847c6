// The shipped scenarios/k8s-sim.yaml, run by the real CLI against a real control plane (kube-
// apiserver, controller manager, scheduler; kwok's fake nodes): drain, redeploy and podmigration
// trials complete and write the same CSVs as a local run — the probe columns empty (the simulated
// pods run no app), the pod lifecycle columns filled, the watch's timeline in events.csv with both
// clocks. podmigration meets a test double of the operator (podmigration-operator-double.ts) that
// reacts to the resource as the real controller does, so what is tested is migbench's side: the
// resource it creates, its watch, the completion it detects.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'csv-parse/sync';
import { useSimCluster } from '../../helpers/sim-cluster.ts';
import { trialsColumns } from '../../../src/results/trials-csv.ts';
import { PodmigrationOperatorDouble } from './podmigration-operator-double.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn, unschedulableNodes, type AdminClients } from './cluster-kit.ts';

const cluster = useSimCluster();
let admin: AdminClients;
let operator: PodmigrationOperatorDouble;
let base: string;

beforeAll(async () => {
  admin = adminClients(cluster.kubeconfig);
  operator = await PodmigrationOperatorDouble.installed(cluster.kubeconfig);
  base = mkdtempSync(`${tmpdir()}/migbench-k8s-sim-`);
});

afterAll(async () => {
  await operator?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

it('runs drain, redeploy and podmigration trials of scenarios/k8s-sim.yaml and writes the same CSVs', { timeout: 300_000 }, async () => {
  const out = `${base}/results`;
  const run = await migbenchAsync(['run', 'scenarios/k8s-sim.yaml', '--kubeconfig', cluster.kubeconfig, '--out', out, '--quiet'], 240_000);
  const failures = (() => {
    try {
      return csv(`${out}/trials.csv`)
        .filter((t) => t.status !== 'ok')
        .map((t) => `trial ${t.trial} ${t.strategy}: ${t.failed_phase}: ${t.error}`)
        .join('\n');
    } catch {
      return '(no trials.csv)';
    }
  })();
  const diagnose = `\n--- failed trials ---\n${failures}\n--- operator double ---\n${operator.errors.join('\n')}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
  expect(run.code, diagnose).toBe(0);
  expect(operator.errors).toEqual([]);

  // trials.csv: the local platform's header, one ok row per planned trial.
  const header = readFileSync(`${out}/trials.csv`, 'utf8').split('\n')[0]!.split(',');
  expect(header).toEqual(trialsColumns);
  const trials = csv(`${out}/trials.csv`);
  expect(trials.map((t) => t.strategy).sort()).toEqual(['drain', 'drain', 'podmigration', 'podmigration', 'redeploy', 'redeploy']);
  // The podmigration rows say plainly that the operator was the test double; the others name none.
  for (const t of trials) expect(t.operator, `trial ${t.trial} ${t.strategy}`).toBe(t.strategy === 'podmigration' ? 'test-double' : '');
  expect(JSON.parse(readFileSync(`${out}/run.json`, 'utf8')).podmigrationOperator).toEqual({ 'test-double': 2 });
  for (const t of trials) {
    expect(t, diagnose).toMatchObject({ status: 'ok', error: '', failed_phase: '', workload: 'video' });
    // Pod lifecycle measured: trigger → scheduled ≤ ready ≤ the strategy's end.
    const [scheduled, ready, migration] = [Number(t.pod_scheduled_ms), Number(t.pod_ready_ms), Number(t.migration_ms)];
    expect(scheduled, `trial ${t.trial} pod_scheduled_ms`).toBeGreaterThan(0);
    expect(ready).toBeGreaterThanOrEqual(scheduled);
    expect(migration).toBeGreaterThanOrEqual(ready);
    expect(migration).toBeLessThan(30_000);
    // No app was probed: the probe columns are empty, not zero.
    for (const column of ['downtime_ms', 'downtime_upper_ms', 'outages', 'failed_samples', 'samples', 'latency_p50_ms']) expect(t[column], column).toBe('');
  }

  // events.csv: the watch's timeline with the API server's own timestamps, around each move.
  const events = csv(`${out}/events.csv`);
  for (const t of trials) {
    const mine = events.filter((e) => e.trial === t.trial);
    const watched = mine.filter((e) => e.source === 'platform:kubernetes');
    const steps = new Set(watched.map((e) => e.event));
    for (const step of ['pod_created', 'pod_scheduled', 'containers_started', 'pod_ready', 'pod_terminating', 'pod_deleted'])
      expect(steps, `trial ${t.trial} (${t.strategy}): ${step}`).toContain(step);
    for (const e of watched.filter((w) => w.event !== 'pod_deleted')) expect(e.detail).toMatch(/api_time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The moved pod is scheduled on the target node after the trigger.
    expect(watched.find((e) => e.event === 'pod_scheduled' && Number(e.t_ms) > 0)?.detail).toMatch(/ node=worker-b /);
    expect(mine.find((e) => e.event === 'trigger')?.detail).toBe(`${t.strategy}: worker-a -> worker-b`);
  }
  const drain = events.filter((e) => e.trial === trials.find((t) => t.strategy === 'drain')!.trial && e.source === 'strategy:drain').map((e) => e.event);
  expect(drain).toEqual(['node_cordoned', 'evicted', 'ready', 'source_deleted', 'node_uncordoned']);

  // The Podmigration migbench created, as the operator saw it.
  expect(operator.seen).toHaveLength(2);
  for (const pm of operator.seen) {
    expect(pm.spec).toMatchObject({
      action: 'live-migration',
      destHost: 'worker-b',
      replicas: 1,
      snapshotPath: '/var/lib/kubelet/migration',
      selector: { matchLabels: { app: 'migbench-video' } },
    });
    expect(pm.spec.sourcePod).toBe('migbench-video');
    expect(pm.restoredPod).toMatch(/^migbench-video-migration-\d+$/);
    expect(pm.labels['app.kubernetes.io/managed-by']).toBe('migbench');
  }
  const podmigration = trials.find((t) => t.strategy === 'podmigration')!;
  const pmEvents = events.filter((e) => e.trial === podmigration.trial && e.source === 'strategy:podmigration');
  expect(pmEvents.map((e) => e.event)).toEqual(['requested', 'ready', 'operator', 'source_deleted']);
  expect(pmEvents[1]!.detail).toMatch(/^migbench-video-migration-\d+ on worker-b$/);
  expect(pmEvents[2]!.detail).toMatch(/^test-double: /);

  // run.json says where it ran.
  const runJson = JSON.parse(readFileSync(`${out}/run.json`, 'utf8'));
  expect(runJson.platform).toMatchObject({ name: 'kubernetes', namespace: 'default', context: 'migbench-sim' });
  expect(runJson.versions.kubernetes).toMatch(/^v1\./);
  expect(runJson.trials).toEqual({ planned: 6, ok: 6, failed: 0 });

  // Nothing left behind: nodes schedulable, no object of migbench in the namespace.
  expect(await unschedulableNodes(admin)).toEqual({});
  expect(await migbenchObjectsIn(admin, 'default')).toEqual([]);
  expect(await migbenchAsync(['cleanup', '--platform', 'kubernetes', '--kubeconfig', cluster.kubeconfig, '--namespace', 'default'])).toMatchObject({
    code: 0,
    stdout: 'migbench cleanup: nothing to remove\n',
  });
});
