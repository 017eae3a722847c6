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
  })
  .strict()
  .describe(
    "`kubelet-checkpoint` (kubernetes platform): Kubernetes' own checkpoint/restore (KEP-2008) — the kubelet's checkpoint API on the source node, " +
      "the archive to the shared store, a checkpoint image imported into the target node's containerd, a pod created from it there.",
  );

export type KubeletCheckpointStrategyOptions = z.output<typeof kubeletCheckpointOptions>;
