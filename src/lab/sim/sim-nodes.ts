// The sim cluster's nodes: a tainted control-plane node and the workers, all fake — kwok plays their
// kubelets (they turn Ready and keep a lease; their pods turn Running+Ready and go away when deleted)
// for the nodes carrying its annotation.
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import type { ControlPlane } from '../build/control-plane-build.ts';

/** kwok manages only nodes with this annotation (a real node joined by mistake is left alone). */
const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const CONTROL_PLANE_NODE = 'control-plane';
export const DEFAULT_WORKERS: readonly string[] = ['worker-a', 'worker-b'];
const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';

export function fakeNodes(workers: readonly string[]): V1Node[] {
  const node = (name: string, controlPlane: boolean): V1Node => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        ...(controlPlane ? { [CONTROL_PLANE_ROLE]: '' } : {}),
      },
    },
    spec: controlPlane ? { taints: [{ key: CONTROL_PLANE_ROLE, effect: 'NoSchedule' }] } : {},
  });
  return [node(CONTROL_PLANE_NODE, true), ...workers.map((w) => node(w, false))];
}

/** Ready, and the not-ready taint gone: the node lifecycle controller has seen the heartbeat. */
export async function nodesReady(core: CoreV1Api, names: readonly string[]): Promise<boolean> {
  const nodes = (await core.listNode()).items;
  return names.every((name) => {
    const n = nodes.find((x) => x.metadata?.name === name);
    const ready = n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const notReadyTaint = n?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/not-ready') || t.key === 'node.kubernetes.io/unreachable') ?? false;
    return ready && !notReadyTaint;
  });
}

export function kwokArgs(binaries: ControlPlane, kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    // Explicit, so a ~/.kwok/kwok.yaml on the host changes nothing.
    `--config=${binaries.kwokStages}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
    '--node-lease-duration-seconds=40',
    // Pod IPs kwok hands out (nothing is routed to them); --server-address stays unset: no listener.
    '--cidr=10.244.0.0/16',
    '--node-ip=127.0.0.1',
  ];
}
