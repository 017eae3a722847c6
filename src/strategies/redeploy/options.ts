// `redeploy`'s options.
import { z } from 'zod';

export const redeployOptions = z
  .object({
    name: z.literal('redeploy'),
    gracePeriodSeconds: z
      .number()
      .min(0)
      .max(3600)
      .describe("SIGTERM, then SIGKILL after this many seconds (Kubernetes' terminationGracePeriodSeconds).")
      .default(30),
  })
  .strict()
  .describe('Delete the pod and create it again on the target node (the original k8s_default_migrate.sh); the new pod starts from its volume.');

export type RedeployStrategyOptions = z.output<typeof redeployOptions>;
