// `drain` with `controller: statefulset` on the real-node cluster (`migbench cluster`): Redis runs as
// a StatefulSet of one, worker-a is cordoned, the pod is evicted and really terminated by worker-a's
// kubelet, and only then does the StatefulSet controller create its replacement — same name, new uid
// — which the scheduler can only put on worker-b. The CSVs say the data came through: the AOF on
// the shared directory was reloaded, no acknowledged write lost.
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn, unschedulableNodes } from './cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-k8s-nodes-sts');

const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

it('drains Redis run as a StatefulSet from worker-a to worker-b: replacement only after the old pod is gone, no acknowledged write lost', {
  timeout: 600_000,
}, async () => {
  const file = redisNodesScenario(
    join(cluster.base, 'statefulset.yaml'),
    '  - name: drain\n    gracePeriodSeconds: 5\n    controller: statefulset\nrepetitions: 2',
  );
  const out = join(cluster.base, 'results');
  const run = await migbenchAsync(['run', file, '--warmup', '0', '--out', out, '--quiet'], 540_000);
  const trials = (() => {
    try {
      return csv(`${out}/trials.csv`);
    } catch {
      return [];
    }
  })();
  const diagnose = `\n${trials
    .filter((t) => t.status !== 'ok')
    .map((t) => `trial ${t.trial}: ${t.failed_phase}: ${t.error}`)
    .join('\n')}\n--- stderr ---\n${run.stderr}`;
  expect(run.code, diagnose).toBe(0);
  expect(trials).toHaveLength(2);
  const events = csv(`${out}/events.csv`);
  for (const t of trials) {
    expect(t, diagnose).toMatchObject({ status: 'ok', workload: 'redis', strategy: 'drain', operator: '' });
    // Data intact: every write the probe saw acknowledged was in the AOF the replacement reloaded.
    expect(t.redis_acked_writes_lost, `trial ${t.trial}`).toBe('0');
    expect(Number(t.downtime_ms)).toBeGreaterThan(0);
    const mine = events.filter((e) => e.trial === t.trial);
    const watched = mine.filter((e) => e.source === 'platform:kubernetes');
    // The StatefulSet's one identity: the evicted pod and its replacement are both migbench-redis-0.
    const scheduledAfter = watched.find((e) => e.event === 'pod_scheduled' && Number(e.t_ms) > 0);
    expect(scheduledAfter?.detail).toMatch(/^migbench-redis-0 .*node=worker-b /);
    // At most one pod per identity: the replacement is created only after the old one was deleted.
    const deletedAt = Number(watched.find((e) => e.event === 'pod_deleted' && Number(e.t_ms) > 0)?.t_ms);
    const createdAt = Number(watched.find((e) => e.event === 'pod_created' && Number(e.t_ms) > 0)?.t_ms);
    expect(createdAt, `trial ${t.trial}: replacement created ${createdAt} ms, old pod deleted ${deletedAt} ms`).toBeGreaterThanOrEqual(deletedAt);
    expect(mine.filter((e) => e.source === 'strategy:drain').map((e) => e.event)).toEqual([
      'node_cordoned',
      'evicted',
      'ready',
      'source_deleted',
      'node_uncordoned',
    ]);
  }
  const admin = adminClients(cluster.state.kubeconfig);
  expect(await unschedulableNodes(admin)).toEqual({});
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
});
