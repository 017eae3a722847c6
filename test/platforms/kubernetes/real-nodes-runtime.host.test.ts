// run.json's record of what each node runs, read as on any cluster — through the API server only
// (the Node objects, and the kubelet's /metrics and /configz through the node proxy) — from the
// lab's real nodes: kubelet 1.36 with its ContainerCheckpoint gate on, containerd 2.3 (whose restore
// from a checkpoint image is off by default from 2.3.4: the lab turns it on), the kernel, the cgroup
// driver.
import { expect, it } from 'vitest';
import { connectCluster } from '../../../src/platforms/kubernetes/cluster.ts';
import { nodeRuntimes } from '../../../src/platforms/kubernetes/node-runtime.ts';
import { useRealNodeCluster } from '../../helpers/real-node-cluster.ts';

const cluster = useRealNodeCluster('migbench-k8s-runtime');

it("records each node's kubelet, checkpoint gate, runtime and its restore window, kernel and cgroup driver", { timeout: 60_000 }, async () => {
  const k8s = connectCluster({ kubeconfig: cluster.state.kubeconfig, namespace: 'migbench' });
  const runtimes = await nodeRuntimes(k8s, (await k8s.core.listNode()).items);
  for (const node of cluster.state.nodes) {
    const r = runtimes[node.name]!;
    expect(r, node.name).toMatchObject({
      kubelet: expect.stringMatching(/^v1\.\d+\.\d+/),
      containerRuntime: expect.stringMatching(/^containerd:\/\/2\.3\.\d+/),
      checkpointGate: 'on',
      kernel: expect.stringMatching(/^\d+\.\d+/),
      cgroupDriver: expect.stringMatching(/^(cgroupfs|systemd)$/),
    });
    expect(r.checkpointRestore, node.name).toMatch(/^(on by default|off by default: needs enable_experimental_restore_via_create = true)$/);
  }
});
