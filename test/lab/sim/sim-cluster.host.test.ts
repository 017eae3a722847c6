// The sim cluster behaves like the parts of Kubernetes the kubernetes platform relies on: the real
// scheduler places pods on workers (never on the tainted control-plane node), kwok makes them Ready,
// cordon + the Eviction API (honouring a PodDisruptionBudget) make the ReplicaSet controller create a
// replacement elsewhere, RBAC applies to other users, the garbage collector and the namespace
// controller clean up, and stop leaves nothing behind.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { CONTROL_PLANE_NODE, DEFAULT_WORKERS, simClusterProcesses, stopSimCluster, writeImpersonatingKubeconfig } from '../../../src/lab/sim/sim-cluster.ts';
import { processAlive } from '../../../src/system/processes.ts';
import { useSimCluster } from '../../helpers/sim-cluster.ts';

const cluster = useSimCluster();
const NS = 'sim-test';
const APP = { app: 'sim-web' };

function clients() {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const isReady = (p: V1Pod) => p.status?.phase === 'Running' && (p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

async function readyPods(core: CoreV1Api): Promise<V1Pod[]> {
  const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=sim-web' })).items;
  return pods.filter((p) => isReady(p) && !p.metadata?.deletionTimestamp);
}

/** The HTTP status of a call: 200 when it succeeds, the ApiException's code when not. */
const statusOf = (call: Promise<unknown>) =>
  call.then(
    () => 200,
    (err: unknown) => (err instanceof ApiException ? err.code : Promise.reject(err)),
  );

describe('sim cluster', () => {
  it('schedules a Deployment’s pod onto a worker and kwok makes it Ready', async () => {
    const { core, apps } = clients();
    await core.createNamespace({ body: { metadata: { name: NS } } });
    // The namespace's service account must exist before its pods are admitted (serviceaccount controller).
    await until('the service account of the new namespace', 30_000, () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: NS }).then(
        () => true,
        () => undefined,
      ),
    );
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'sim-web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: APP },
          template: { metadata: { labels: APP }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } },
        },
      },
    });
    const [pod] = await until('a Ready pod', 60_000, async () => {
      const ready = await readyPods(core);
      return ready.length === 1 ? ready : undefined;
    });
    expect(DEFAULT_WORKERS).toContain(pod!.spec?.nodeName);
    expect(pod!.spec?.nodeName).not.toBe(CONTROL_PLANE_NODE);
    expect(pod!.status?.podIP).toMatch(/^10\.244\./);
    // The scheduler bound it (not kwok nor us): the Scheduled condition is the scheduler's.
    expect(pod!.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
  });

  it('cordon + Eviction (PodDisruptionBudget honoured) makes the ReplicaSet replace the pod on the other worker', async () => {
    const { core, policy } = clients();
    const [old] = await readyPods(core);
    const from = old!.spec!.nodeName!;
    const to = DEFAULT_WORKERS.find((w) => w !== from)!;

    await policy.createNamespacedPodDisruptionBudget({
      namespace: NS,
      body: { metadata: { name: 'sim-web' }, spec: { minAvailable: 1, selector: { matchLabels: APP } } },
    });
    await until('the disruption controller to count the healthy pod', 30_000, async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'sim-web', namespace: NS });
      return pdb.status?.currentHealthy === 1 && pdb.status.observedGeneration === pdb.metadata?.generation ? pdb : undefined;
    });
    const evict = () =>
      core.createNamespacedPodEviction({
        name: old!.metadata!.name!,
        namespace: NS,
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: old!.metadata!.name!, namespace: NS } },
      });
    const refused = await evict().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<unknown>).code).toBe(429);
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'sim-web', namespace: NS });

    const node = await core.readNode({ name: from });
    await core.replaceNode({ name: from, body: { ...node, spec: { ...node.spec, unschedulable: true } } });
    await evict();

    const replacement = await until('a Ready replacement pod', 60_000, async () => {
      const ready = (await readyPods(core)).filter((p) => p.metadata?.uid !== old!.metadata?.uid);
      return ready.length === 1 ? ready[0] : undefined;
    });
    expect(replacement.spec?.nodeName).toBe(to);
    expect(replacement.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
    // kwok finishes the evicted pod's deletion: it disappears from the API.
    await until('the evicted pod to be gone', 30_000, () =>
      core.readNamespacedPod({ name: old!.metadata!.name!, namespace: NS }).then(
        () => undefined,
        (err: unknown) => (err instanceof ApiException && err.code === 404 ? true : undefined),
      ),
    );
  });

  it('authorizes other users through RBAC (a kubeconfig impersonating them)', async () => {
    const { rbac } = clients();
    const asAlice = new KubeConfig();
    asAlice.loadFromFile(await writeImpersonatingKubeconfig(cluster.state.dir, 'alice'));
    const alice = asAlice.makeApiClient(CoreV1Api);
    expect(await statusOf(alice.listNamespacedPod({ namespace: NS }))).toBe(403);
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: {
        metadata: { name: 'alice-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    await until('the RoleBinding to apply', 10_000, async () => ((await statusOf(alice.listNamespacedPod({ namespace: NS }))) === 200 ? true : undefined));
    expect(await statusOf(alice.listNode())).toBe(403);
    expect(await statusOf(alice.deleteNamespacedPod({ name: 'any', namespace: NS }))).toBe(403);
  });

  it('garbage-collects a deleted Deployment’s ReplicaSet and pods, and finishes deleting the namespace', async () => {
    const { core, apps } = clients();
    await apps.deleteNamespacedDeployment({ name: 'sim-web', namespace: NS, propagationPolicy: 'Background' });
    await until('the ReplicaSet and its pods to be collected', 60_000, async () => {
      const [sets, pods] = await Promise.all([apps.listNamespacedReplicaSet({ namespace: NS }), core.listNamespacedPod({ namespace: NS })]);
      return sets.items.length === 0 && pods.items.length === 0 ? true : undefined;
    });
    await core.deleteNamespace({ name: NS });
    await until('the namespace controller to finish the deletion', 60_000, () =>
      core.readNamespace({ name: NS }).then(
        () => undefined,
        (err: unknown) => (err instanceof ApiException && err.code === 404 ? true : undefined),
      ),
    );
  });

  it('listens on 127.0.0.1 only, and stop leaves no process, port or file behind', async () => {
    const { dir, ports } = cluster.state;
    const processes = simClusterProcesses(dir);
    expect(processes.map((p) => p.name).sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']);
    const pids = new Set(processes.map((p) => p.pid));
    const listeners = execFileSync('ss', ['-H', '-ltunp'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => [...l.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1]))))
      .map((l) => l.trim().split(/\s+/)[4]);
    expect(listeners.length).toBeGreaterThanOrEqual(Object.keys(ports).length);
    for (const address of listeners) expect(address).toMatch(/^127\.0\.0\.1:\d+$/);

    const stopped = await stopSimCluster(dir);
    expect(stopped).toHaveLength(5);
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
    for (const port of Object.values(ports)) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
      expect(refused, `port ${port}`).toBe(true);
    }
    expect(existsSync(dir)).toBe(false);
    // Idempotent: a second stop finds nothing and does not fail.
    expect(await stopSimCluster(dir)).toEqual([]);
  });
});
