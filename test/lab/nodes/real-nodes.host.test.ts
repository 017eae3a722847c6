// The real-node cluster (`migbench cluster`): two nodes with their own kubelet, containerd, runc and
// kube-proxy turn Ready, run a real pod each, and stop leaving nothing on the host — also when the
// nodes were killed with SIGKILL first (cleanup from /proc, mountinfo and cgroupfs, no state file).
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import type { K8sObject } from '../../../src/platforms/kubernetes/api.ts';
import { readWorkloadManifests } from '../../../src/platforms/kubernetes/manifests.ts';
import { realNodeManifests } from '../../../src/lab/nodes/real-node-manifests.ts';
import { startNodeCluster, stopNodeCluster, type NodeClusterState } from '../../../src/lab/nodes/node-cluster.ts';
import { nodeProcesses } from '../../../src/lab/nodes/host-state.ts';
import { API_CHAIN, BRIDGE, CLUSTER_DATA_DIR, CLUSTER_RUN_DIR, KUBELET_HOST_SYSCTLS, NAME_PREFIX, SHARED_VOLUME_DIR } from '../../../src/lab/nodes/layout.ts';
import { PAUSE_IMAGE } from '../../../src/lab/build/node-build.ts';
import { ensureWorkloadPrerequisites } from '../../../src/setup/workload-prerequisites.ts';

const START_TIMEOUT_MS = 60 * 60_000;

const sysctls = () => Object.fromEntries(KUBELET_HOST_SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));

/** Everything of the cluster the host could still hold. */
function clusterLeftovers() {
  const lines = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  const hierarchies = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}`);
  return {
    processes: nodeProcesses().map((p) => `${p.name} ${p.pid}`),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(CLUSTER_RUN_DIR) || m.startsWith(CLUSTER_DATA_DIR)),
    netns: existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`${NAME_PREFIX}-`)) : [],
    links: readdirSync('/sys/class/net').filter((l) => l === BRIDGE || new RegExp(`^${NAME_PREFIX}v\\d+$`).test(l)),
    iptables: lines('iptables', ['-w', '-t', 'nat', '-S']).filter((l) => l.includes(API_CHAIN)),
    cgroups: hierarchies.flatMap((h) =>
      existsSync(h)
        ? readdirSync(h)
            .filter((d) => d.startsWith(`${NAME_PREFIX}-`))
            .map((d) => `${h}/${d}`)
        : [],
    ),
    dirs: [CLUSTER_RUN_DIR, CLUSTER_DATA_DIR].filter(existsSync),
  };
}
const NOTHING = { processes: [], mounts: [], netns: [], links: [], iptables: [], cgroups: [], dirs: [] };

function core(kubeconfig: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc.makeApiClient(CoreV1Api);
}

async function runningPodOn(api: CoreV1Api, node: string): Promise<{ phase?: string; ip?: string }> {
  const name = `pause-${node}`;
  await api.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        nodeName: node,
        automountServiceAccountToken: false,
        containers: [{ name: 'pause', image: PAUSE_IMAGE, imagePullPolicy: 'Never' }],
      },
    },
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    const pod = await api.readNamespacedPod({ name, namespace: 'default' });
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready || Date.now() > deadline)
      return { ...(pod.status?.phase ? { phase: pod.status.phase } : {}), ...(pod.status?.podIP ? { ip: pod.status.podIP } : {}) };
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('real-node cluster', () => {
  const before = sysctls();
  let state: NodeClusterState | undefined;
  const started = () => {
    if (!state) throw new Error('the cluster did not start');
    return state;
  };
  afterAll(async () => {
    await stopNodeCluster();
  }, 120_000);

  it(
    'starts two Ready nodes running containerd 2.3 and kubelet 1.36, and each runs a real pod on its own pod network',
    async () => {
      state = await startNodeCluster({ progress: (line) => process.stderr.write(`${line}\n`) });
      const api = core(state.kubeconfig);
      const nodes = (await api.listNode()).items.filter((n) => n.metadata?.labels?.['migbench.io/real-node'] === 'true');
      expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(['worker-a', 'worker-b']);
      for (const n of nodes) {
        expect(n.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/v?2\.3\.\d+/);
        expect(n.status?.nodeInfo?.kubeletVersion).toBe('v1.36.3');
      }
      for (const node of ['worker-a', 'worker-b']) {
        const pod = await runningPodOn(api, node);
        expect(pod.phase, node).toBe('Running');
        const cidr = state.nodes.find((n) => n.name === node)?.podCidr ?? '';
        expect(pod.ip?.startsWith(cidr.replace(/0\/24$/, '')), `${node} pod IP ${pod.ip} in ${cidr}`).toBe(true);
      }
    },
    START_TIMEOUT_MS,
  );

  it('runs Redis, the video server and the training job as real pods, reached through their NodePort on either node', async () => {
    const { kubeconfig, nodes } = started();
    // python3 and PyTorch come from the host's Debian packages, mounted into the pods (workload-images.ts).
    await ensureWorkloadPrerequisites(['video', 'ml-training'], (line) => process.stderr.write(`${line}\n`));
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const api = core(kubeconfig);
    for (const workload of ['redis', 'video', 'ml-training']) {
      for (const o of realNodeManifests(readWorkloadManifests(workload))) {
        await objects.create({ ...o, metadata: { ...o.metadata, namespace: 'default' } } as K8sObject);
      }
    }
    const [a, b] = nodes.map((n) => n.address) as [string, string];
    // Written through worker-a's NodePort, read through worker-b's: kube-proxy on both nodes forwards to the one pod.
    await untilOk(async () => {
      const r = new Redis({ host: a, port: 30379, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined); // refused until kube-proxy has the rule: retried by untilOk
      try {
        await r.connect();
        await r.set('migbench', 'real-node');
      } finally {
        r.disconnect();
      }
    });
    // Each node's kube-proxy syncs on its own: worker-b's rule can come a moment after worker-a's.
    const read = await untilOk(async () => {
      const r = new Redis({ host: b, port: 30379, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        return await r.get('migbench');
      } finally {
        r.disconnect();
      }
    });
    expect(read).toBe('real-node');
    for (const [address, port] of [
      [b, 30881],
      [a, 30880],
    ] as const) {
      const health = await untilOk(async () => {
        const r = await fetch(`http://${address}:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.status;
      });
      expect(health, `${address}:${port}`).toBe(200);
    }
    // The AOF is on the claim's volume: a directory of the lab's provisioner under the shared
    // directory both nodes see (standing in for NFS).
    const claim = await api.readNamespacedPersistentVolumeClaim({ name: 'migbench-redis-data', namespace: 'default' });
    expect(claim.status?.phase).toBe('Bound');
    const volume = await api.readPersistentVolume({ name: claim.spec!.volumeName! });
    expect(volume.spec?.hostPath?.path?.startsWith(`${SHARED_VOLUME_DIR}/`), volume.spec?.hostPath?.path).toBe(true);
    expect(existsSync(join(volume.spec!.hostPath!.path!, 'appendonlydir'))).toBe(true);
  }, 600_000);

  it('stop leaves nothing: processes, mounts, netns, links, iptables rules, cgroups, directories, host sysctls', async () => {
    started();
    const t0 = performance.now();
    await stopNodeCluster();
    process.stderr.write(
      `real-node cluster: started in ${(started().startupMs / 1000).toFixed(1)} s, stopped in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    expect(clusterLeftovers()).toEqual(NOTHING);
    expect(sysctls()).toEqual(before);
  }, 120_000);

  it(
    'after SIGKILL of every node process, stop still removes everything',
    async () => {
      state = await startNodeCluster({ progress: (line) => process.stderr.write(`${line}\n`) });
      await runningPodOn(core(state.kubeconfig), 'worker-a');
      for (const p of nodeProcesses()) process.kill(p.pid, 'SIGKILL');
      await stopNodeCluster();
      expect(clusterLeftovers()).toEqual(NOTHING);
      expect(sysctls()).toEqual(before);
    },
    START_TIMEOUT_MS,
  );
});

async function untilOk<T>(attempt: () => Promise<T>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
