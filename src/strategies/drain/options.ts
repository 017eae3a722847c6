// `drain`'s options.
import { z } from 'zod';

export const drainOptions = z
  .object({
    name: z.literal('drain'),
    gracePeriodSeconds: z.number().min(0).max(3600).describe('The evicted pod gets SIGTERM, then SIGKILL after this many seconds.').default(30),
    controller: z
      .enum(['deployment', 'statefulset'])
      .describe(
        'Who replaces the evicted pod. deployment: a ReplicaSet creates the replacement at once, while the old pod terminates; ' +
          'statefulset: the replacement is created only once the old pod is gone.',
      )
      .default('deployment'),
  })
  .strict()
  .describe(
    "Kubernetes' default way of moving pods off a node (kubectl drain): cordon the source node, evict the pod, its controller creates the replacement.",
  );

export type DrainStrategyOptions = z.output<typeof drainOptions>;
