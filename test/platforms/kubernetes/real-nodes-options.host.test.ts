// A workload option set away from its default reaches the running app on a cluster: the app's flags
// come from the scenario's workload definition, not from workloads/<type>/k8s.yaml. The app is the
// real one, its image (`migbench images build`) pulled by digest from the lab's registry as from a
// user's (`kubernetes.images`). Deployed by the
// kubernetes platform's own trial steps on the lab's real nodes (`migbench cluster`), then asked
// through its Service's NodePort (the one the cluster allocated, read back from the Service), as a
// probe reaches it: Redis' CONFIG GET appendfsync, the video server's frames per second.
import { beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { labNodeAccess } from '../../../src/lab/nodes/node-access.ts';
import { KubeApi } from '../../../src/platforms/kubernetes/api.ts';
import { connectCluster, nodeInfo } from '../../../src/platforms/kubernetes/cluster.ts';
import { KubernetesTrialSteps } from '../../../src/platforms/kubernetes/driver/trial.ts';
import { strategySchema, workloadSchema, type WorkloadConfig } from '../../../src/scenario/schema.ts';
import { createKubernetesStrategy } from '../../../src/strategies/registry.ts';
import { ensureWorkloadPrerequisites } from '../../../src/setup/workload-prerequisites.ts';
import { createWorkload } from '../../../src/workloads/registry.ts';
import { useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { silentEvents } from '../../helpers/host.ts';
import { adminClients, eventually, loadLabImages, migbenchObjectsIn } from './cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-k8s-options', () => ensureWorkloadPrerequisites(['video'], (line) => process.stderr.write(`${line}\n`)));

let images: Record<string, string> = {};
beforeAll(async () => {
  images = await loadLabImages(['redis', 'video']);
}, 900_000);

/** Deploys `config` as a trial of the platform would, hands its address to `check`, tears it down. */
async function deployed(config: WorkloadConfig, trial: number, check: (address: { host: string; port: number }) => Promise<void>): Promise<void> {
  const { state } = cluster;
  const k8s = connectCluster({ kubeconfig: state.kubeconfig, namespace: 'migbench' });
  const workload = createWorkload(config);
  const runId = 'options-test';
  const steps = new KubernetesTrialSteps({
    runId,
    trial,
    api: new KubeApi(k8s, { dryRun: false, print: () => undefined }),
    workload,
    // Each workload at the nodePort the cluster allocated its Service, on worker-a's address.
    exposure: { via: 'nodePort', nodeAddress: state.nodes[0]!.address },
    adaptManifests: (objects) => labNodeAccess.adaptManifests(objects, runId, trial),
    strategy: createKubernetesStrategy(strategySchema.parse('redeploy')),
    nodes: async () => (await k8s.core.listNode()).items.map(nodeInfo),
    wantedNodes: { sourceNode: state.nodes[0]!.name, targetNode: state.nodes[1]!.name },
    forceControlPlane: false,
    timing: { settleMs: 0, observeMs: 0, readyTimeoutMs: 120_000 },
    image: { reference: images[config.type], pullSecrets: [] },
  });
  try {
    expect(images[config.type], `the ${config.type} image in the lab's registry`).toMatch(/@sha256:/);
    const { address } = await steps.deploy(silentEvents, new AbortController().signal);
    expect(address?.port).not.toBe(undefined);
    // The pod runs the registry's image, not the lab's stand-in (which would run the host's /usr).
    const pods = (await k8s.core.listNamespacedPod({ namespace: 'migbench', labelSelector: 'app.kubernetes.io/part-of=migbench' })).items;
    const app = pods.flatMap((p) => p.status?.containerStatuses ?? []);
    expect(app.length).toBeGreaterThan(0);
    for (const c of app) expect(c.imageID, c.name).toContain(images[config.type]!.split('@')[1]);
    expect(pods.flatMap((p) => p.spec?.volumes ?? []).map((v) => v.name)).not.toContain('migbench-host-usr');
    await check(address!);
  } finally {
    expect(await steps.teardown()).toEqual([]);
  }
  await eventually("the trial's objects to be gone", 60_000, async () => (await migbenchObjectsIn(adminClients(state.kubeconfig), 'migbench')).length === 0);
}

it('redis with appendfsync: always runs with appendfsync always', { timeout: 300_000 }, async () => {
  await deployed(workloadSchema.parse({ type: 'redis', appendfsync: 'always' }), 1, async ({ host, port }) => {
    const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    } finally {
      client.disconnect(false);
    }
  });
});

it("video with fps: 10 streams 10 frames a second (not the file's 25)", { timeout: 300_000 }, async () => {
  await deployed(workloadSchema.parse({ type: 'video', fps: 10 }), 2, async ({ host, port }) => {
    const response = await request(`http://${host}:${port}/healthz`);
    const body = await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(body).toMatch(/"fps":\s*10\b/);
  });
});
