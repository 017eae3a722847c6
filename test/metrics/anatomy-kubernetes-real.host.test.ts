// The kubernetes outage broken down on real trials (the lab's real nodes, `migbench cluster`): Redis
// moved by drain, redeploy and kubelet-checkpoint, one trial each. Every trial's moved pod has its
// chain on the timeline from the components' own records — containerd's events through the node
// agent, the kubelet's reports, the EndpointSlice, kube-proxy's sync timestamp — the anat_* parts add
// up to downtime_ms, and what no event explains stays within one probe interval + 20 ms. run.json
// records the cluster settings the outage waits on, as the nodes run them.
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { anatomyColumns } from '../../src/metrics/anatomy.ts';
import { redisNodesScenario, useRealNodeCluster } from '../helpers/real-node-cluster.ts';
import { migbenchAsync } from '../platforms/kubernetes/cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-anatomy-k8s');
const csv = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

/** The moved pod's chain, in the order the loops run (outage-breakdown.ts). */
const CHAIN = [
  'target_pod_created',
  'target_pod_scheduled',
  'sandbox_ready',
  'container_created',
  'container_started',
  'kubelet_running',
  'kubelet_ready',
  'endpoint_ready',
  'proxy_synced',
];

it('breaks each kubernetes strategy’s outage down to its control loops, the parts adding up to downtime_ms', { timeout: 600_000 }, async () => {
  const scenario = redisNodesScenario(
    `${cluster.base}/anatomy.yaml`,
    '  - name: drain\n    gracePeriodSeconds: 5\n  - name: redeploy\n    gracePeriodSeconds: 5\n  - kubelet-checkpoint\nrepetitions: 1',
  );
  const out = `${cluster.base}/results`;
  const run = await migbenchAsync(['run', scenario, '--warmup', '0', '--out', out, '--quiet'], 540_000);
  expect(run.code, run.stderr).toBe(0);
  const trials = csv(`${out}/trials.csv`);
  const events = csv(`${out}/events.csv`);
  expect(trials.map((t) => t.strategy).sort()).toEqual(['drain', 'kubelet-checkpoint', 'redeploy']);
  for (const t of trials) {
    const what = `${t.strategy} (trial ${t.trial})`;
    expect(t.status, `${what}: ${t.error}`).toBe('ok');
    const chain = events.filter((e) => e.trial === t.trial && e.source === 'platform:kubernetes' && CHAIN.includes(e.event ?? ''));
    // Each step once, in the order the loops run (containerd's own clock against the watch's receive times: the same host).
    expect(
      chain.map((e) => e.event),
      what,
    ).toEqual(CHAIN);
    const at = chain.map((e) => Number(e.t_ms));
    for (let i = 1; i < at.length; i++) expect(at[i]!, `${what}: ${CHAIN[i]} after ${CHAIN[i - 1]}`).toBeGreaterThanOrEqual(at[i - 1]! - 1);
    const parts = anatomyColumns.map((c) => Number(t[c]));
    for (const [i, p] of parts.entries()) expect(p, `${what} ${anatomyColumns[i]}`).toBeGreaterThanOrEqual(0);
    expect(
      parts.reduce((a, b) => a + b, 0),
      what,
    ).toBeCloseTo(Number(t.downtime_ms), 1);
    expect(Number(t.anat_unattributed_ms), `${what}: unattributed`).toBeLessThanOrEqual(Number(t.probe_interval_ms) + 20);
    // The loops after the pod exists each took time: kube-proxy's part is its own sync, not the client's.
    for (const part of ['sandbox', 'pleg', 'proxy']) expect(Number(t[`anat_${part}_ms`]), `${what} anat_${part}_ms`).toBeGreaterThan(0);
    expect(Number(t[t.strategy === 'kubelet-checkpoint' ? 'anat_restore_ms' : 'anat_start_ms']), what).toBeGreaterThan(0);
  }
  // The settings the outage waits on, as each worker runs them (read through the API server).
  const runtimes = (JSON.parse(readFileSync(`${out}/run.json`, 'utf8')) as { platform: { runtimes: Record<string, Record<string, string>> } }).platform
    .runtimes;
  for (const node of ['worker-a', 'worker-b']) {
    expect(runtimes[node], node).toMatchObject({ eventedPleg: 'off', kubeProxyMode: 'iptables', kubeProxyMinSyncPeriod: '1s' });
  }
});
