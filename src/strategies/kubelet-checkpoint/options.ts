// `kubelet-checkpoint`'s options.
import { z } from 'zod';

export const kubeletCheckpointOptions = z
  .object({
    name: z.literal('kubelet-checkpoint'),
    checkpointTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .describe("The kubelet's checkpoint call may take this long (it dumps the container and writes the archive).")
      .default(120),
    kubeletAccess: z
      .enum(['auto', 'direct', 'apiServer'])
      .describe(
        "How the checkpoint call reaches each source node's kubelet: `direct` (https://<node>:10250, RBAC create nodes/checkpoint), `apiServer` (the API server's node proxy, RBAC create nodes/proxy: for kubelets migbench cannot reach), or `auto`: direct where the kubelet's port accepts a connection within 2 s, decided once per node. The route a trial took is in its checkpoint_request event.",
      )
      .default('auto'),
  })
  .strict()
  .describe(
    "`kubelet-checkpoint` (kubernetes platform): Kubernetes' own checkpoint/restore (KEP-2008) — the kubelet's checkpoint API on the source node, " +
      "the archive to the shared store, a checkpoint image imported into the target node's containerd, a pod created from it there.",
  );

export type KubeletCheckpointStrategyOptions = z.output<typeof kubeletCheckpointOptions>;
