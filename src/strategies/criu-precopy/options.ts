// `criu-precopy`'s options: the CRIU options and the number of pre-dump rounds.
import { z } from 'zod';
import { criuOptionFields } from '../criu-common/options.ts';

export const criuPrecopyOptions = z
  .object({
    name: z.literal('criu-precopy'),
    ...criuOptionFields,
    preDumps: z.number().int().min(1).max(10).describe('Pre-dump rounds before the final dump.').default(2),
  })
  .strict()
  .describe('Pre-copy: memory is copied while the pod runs, then a final dump sends only what changed.');

export type CriuPrecopyStrategyOptions = z.output<typeof criuPrecopyOptions>;
