// Before any runtime-restore trial: can these nodes do it — the kubelet's checkpoint API (kubelet ≥
// 1.30, gate on), containerd ≥ 2.0 (it checkpoints through the CRI; no restore support of its own
// is needed, so 2.4 is fine), the runtime handler installed (RuntimeClass `migbench`), the node agent
// ready. If not, the strategy's trials are `unsupported` with the reason.
import { NodeV1Api } from '@kubernetes/client-node';
import type { CheckpointNodes } from '../../platforms/kubernetes/checkpoint-nodes.ts';
import { describeApiError, type Cluster, type NodeInfo } from '../../platforms/kubernetes/cluster.ts';
import type { KubeletAccess, KubeletApi } from '../../platforms/kubernetes/kubelet-api.ts';
import { RUNTIME_HANDLER } from '../../platforms/kubernetes/runtime-handler.ts';
import { compareVersions, parseVersion } from '../../platforms/kubernetes/runtime-window.ts';
import { checkpointNodeProblem } from '../kubelet-checkpoint/support.ts';

/** Why a node's runtime cannot serve the handler, or undefined (pure: status.nodeInfo's version). */
export function runtimeHandlerRuntimeProblem(containerRuntimeVersion: string | undefined): string | undefined {
  const runtime = containerRuntimeVersion ?? '(unknown)';
  const [kind, version] = runtime.split('://');
  if (kind === 'cri-o')
    return `runs ${runtime}: migbench's runtime handler is installed into containerd's runtime table only (CRI-O's [crio.runtime.runtimes] is not built yet)`;
  if (kind !== 'containerd') return `runs ${runtime}: migbench's runtime handler needs containerd ≥ 2.0`;
  const v = parseVersion(version);
  if (!v || compareVersions(v, [2, 0, 0]) < 0) return `runs containerd ${version}: checkpointing through the kubelet needs containerd ≥ 2.0`;
  return undefined;
}

export async function runtimeRestoreUnsupportedReason(
  nodes: readonly NodeInfo[],
  kubelet: KubeletApi,
  checkpointNodes: CheckpointNodes | undefined,
  namespace: string,
  cluster: Cluster | undefined,
  access: KubeletAccess = 'direct',
): Promise<string | undefined> {
  for (const node of nodes) {
    // Where the kubelet reports its runtime's handlers: containerd on this node has no `migbench` in its runtime table.
    const noHandler =
      node.runtimeHandlers && !node.runtimeHandlers.includes(RUNTIME_HANDLER)
        ? `has no runtime handler ${RUNTIME_HANDLER} (its status.runtimeHandlers: ${node.runtimeHandlers.filter(Boolean).join(', ') || 'none'}): install it with \`migbench agent install --runtime-handler\``
        : undefined;
    const problem = await checkpointNodeProblem(node, runtimeHandlerRuntimeProblem(node.containerRuntimeVersion) ?? noHandler, kubelet, namespace, access);
    if (problem) return problem;
  }
  if (cluster) {
    try {
      await cluster.kubeConfig.makeApiClient(NodeV1Api).readRuntimeClass({ name: RUNTIME_HANDLER });
    } catch (err) {
      return `no RuntimeClass ${RUNTIME_HANDLER} (${describeApiError(err)}): install the runtime handler with \`migbench agent install --runtime-handler\` (the lab: \`migbench cluster start --runtime-handler\`)`;
    }
  }
  if (!checkpointNodes) return 'no node agent: install it with `migbench agent install --runtime-handler`';
  return checkpointNodes.unpackForRestore
    ? checkpointNodes.unsupportedReason(nodes.map((n) => n.name))
    : 'the node steps cannot unpack a checkpoint for the runtime handler';
}
