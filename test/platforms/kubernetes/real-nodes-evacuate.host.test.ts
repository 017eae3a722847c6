// An evacuation on the lab's real nodes with 3 workers (`migbench cluster start --workers 3`):
// worker-a loaded with 2 Redis pods and 1 video pod (each its own Deployment or pod, Service and
// volume), emptied 2 at a time by drain — worker-a cordoned once, every pod evicted, each
// replacement placed by the scheduler on worker-b or worker-c and that placement recorded — and by
// kubelet-checkpoint (CRIU through the kubelet's checkpoint API and the node agents). The node
// agent's DaemonSet pod on worker-a stays, as `kubectl drain --ignore-daemonsets` leaves it; rows and
// summary agree; CRIU loses no acknowledged Redis write; nothing of migbench's is left.
import { expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { AGENT_NAMESPACE } from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn, unschedulableNodes } from './cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-k8s-nodes-evacuate', undefined, { workers: 3 });

const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

it('drains and checkpoint-migrates a worker of 2 Redis pods and 1 video pod over 3 workers, 2 at once', { timeout: 600_000 }, async () => {
  const file = join(cluster.base, 'evacuate.yaml');
  writeFileSync(
    file,
    `name: k8s-evacuate
platform: kubernetes
kubernetes:
  kubeconfig: ${cluster.state.kubeconfig}
  namespace: migbench
  nodeAddress: 198.19.240.10
  sourceNode: worker-a
workloads:
  - { type: redis, keys: 500 }
  - type: video
evacuate: { pods: [{ workload: redis, count: 2 }, { workload: video }], concurrency: 2 }
strategies:
  - { name: drain, gracePeriodSeconds: 5 }
  - kubelet-checkpoint
repetitions: 1
warmup: 0
seed: 5
probe: { intervalMs: 10, timeoutMs: 100 }
timing: { settleMs: 1000, observeMs: 4000, readyTimeoutMs: 120000 }
`,
  );
  const admin = adminClients(cluster.state.kubeconfig);
  const agentOnSource = async () =>
    (await admin.core.listNamespacedPod({ namespace: AGENT_NAMESPACE, fieldSelector: 'spec.nodeName=worker-a' })).items.map((p) => p.metadata!.uid);
  const agentBefore = await agentOnSource();
  expect(agentBefore).toHaveLength(1);

  const out = join(cluster.base, 'results');
  const run = await migbenchAsync(['run', file, '--out', out, '--quiet'], 540_000);
  const trials = (() => {
    try {
      return csv(`${out}/trials.csv`);
    } catch {
      return [];
    }
  })();
  const diagnose = `\n${trials
    .filter((t) => t.status !== 'ok')
    .map((t) => `trial ${t.trial} (${t.strategy} ${t.evacuation_pod}): ${t.failed_phase}: ${t.error}`)
    .join('\n')}\n--- stderr ---\n${run.stderr}`;
  expect(run.code, diagnose).toBe(0);
  expect(trials).toHaveLength(6);
  const evacuations = csv(`${out}/evacuations.csv`);
  expect(evacuations.map((e) => e.strategy).sort()).toEqual(['drain', 'kubelet-checkpoint']);
  for (const evacuation of evacuations) {
    const pods = trials.filter((t) => t.evacuation === evacuation.evacuation);
    expect(pods.map((t) => t.evacuation_pod)).toEqual(['redis-p1', 'redis-p2', 'video-p1']);
    for (const t of pods) {
      expect(t, diagnose).toMatchObject({ status: 'ok', strategy: evacuation.strategy, evacuation_pods: '3', concurrency: '2' });
      // Where the pod went: a drain's replacement where the scheduler put it (worker-b or worker-c), a checkpoint to the chosen target.
      if (evacuation.strategy === 'drain') expect(['worker-b', 'worker-c']).toContain(t.evacuation_target);
      else expect(t.evacuation_target).toBe('worker-b');
      if (t.evacuation_pod!.startsWith('redis') && evacuation.strategy === 'kubelet-checkpoint')
        expect(t.redis_acked_writes_lost, `trial ${t.trial}`).toBe('0');
      expect(Number(t.downtime_ms), `trial ${t.trial}`).toBeGreaterThan(0);
    }
    expect(evacuation, diagnose).toMatchObject({ pods: '3', concurrency: '2', pods_failed: '0' });
    expect(evacuation.targets!.split(' ').sort()).toEqual([...new Set(pods.map((t) => t.evacuation_target))].sort());
    expect(Number(evacuation.downtime_max_ms)).toBe(Math.max(...pods.map((t) => Number(t.downtime_ms))));
    expect(Number(evacuation.total_ms)).toBeGreaterThanOrEqual(Math.max(...pods.map((t) => Number(t.migration_ms))) - 0.001);
    const bytes = pods.reduce((sum, t) => sum + Number(t.checkpoint_bytes || 0), 0);
    expect(Number(evacuation.bytes_moved)).toBe(bytes);
    if (evacuation.strategy === 'kubelet-checkpoint') expect(bytes).toBeGreaterThan(0);
  }
  // The evacuation's own cordon, once per evacuation; no drain cordoned the node itself.
  const events = csv(`${out}/events.csv`);
  expect(events.filter((e) => e.source === 'strategy:drain' && e.event!.startsWith('node_'))).toEqual([]);
  for (const t of trials)
    expect(events.filter((e) => e.trial === t.trial && e.source === 'evacuation').map((e) => e.event)).toEqual(['node_cordoned', 'node_uncordoned']);
  // The DaemonSet's pod on the drained node was left alone; nothing of migbench's is left.
  expect(await agentOnSource()).toEqual(agentBefore);
  expect(await unschedulableNodes(admin)).toEqual({});
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
});
