// Before a run on the real-node cluster creates anything: the two nodes it uses are Ready (a stopped
// kubelet or containerd shows as NotReady, with the kubelet's reason) and hold every image the run's
// workloads need (they are imported, never pulled: a missing one would leave the pod waiting in
// ErrImageNeverPull until the trial times out). Each problem names the node or image and the fix.
import type { V1Node } from '@kubernetes/client-node';
import { WORKLOAD_IMAGES } from './workload-images.ts';

const RESTART = 'restart the cluster: sh bin/migbench cluster stop && sh bin/migbench cluster start';

/** The first problem found, as "field: what is wrong; fix", or undefined. */
export function realNodeProblem(nodes: readonly V1Node[], used: readonly string[], workloadTypes: readonly string[]): string | undefined {
  for (const name of used) {
    const node = nodes.find((n) => n.metadata?.name === name);
    if (!node) continue; // chooseNodes reports unknown names
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status !== 'True') {
      const why = [ready?.reason, ready?.message].filter(Boolean).join(': ') || 'no Ready condition';
      return `kubernetes nodes: node ${name} is NotReady (${why}); ${RESTART}`;
    }
    const present = new Set((node.status?.images ?? []).flatMap((i) => i.names ?? []));
    for (const type of workloadTypes) {
      const image = WORKLOAD_IMAGES.find((i) => i.workload === type);
      if (image && !present.has(image.name)) {
        return `workloads[].type ${type}: image ${image.name} is missing on node ${name} (pods never pull it here: imagePullPolicy Never); ${RESTART}, which imports it`;
      }
    }
  }
  return undefined;
}
