// `runtime-restore`'s options.
import { z } from 'zod';
import { archiveTransferOption, kubeletAccessOption } from '../kubelet-checkpoint/options.ts';

export const runtimeRestoreOptions = z
  .object({
    name: z.literal('runtime-restore'),
    checkpointTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .describe("The kubelet's checkpoint call may take this long (it dumps the container and writes the archive).")
      .default(120),
    targetPod: z
      .enum(['after-transfer', 'before-dump'])
      .describe(
        'When the restored pod is created: `after-transfer` (once the checkpoint is on the target node) or `before-dump` (first; its sandbox, network ' +
          'and image are ready and its create waits in the runtime handler until the checkpoint arrives, so pod setup leaves the outage).',
      )
      .default('after-transfer'),
    transfer: archiveTransferOption,
    kubeletAccess: kubeletAccessOption,
  })
  .strict()
  .describe(
    '`runtime-restore` (kubernetes platform): the kubelet checkpoints the source, the node agents stream the archive to the target node and unpack it ' +
      "there, and a pod of RuntimeClass `migbench` (the runtime handler: runc through migbench's wrapper) restores it with `runc restore` in its create — " +
      'no checkpoint image, no restore support in the runtime (works on containerd 2.4). Needs `migbench agent install --runtime-handler` (the lab: `cluster start --runtime-handler`).',
  );

export type RuntimeRestoreStrategyOptions = z.output<typeof runtimeRestoreOptions>;
