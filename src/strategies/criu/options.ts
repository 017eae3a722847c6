// `criu`'s options: the CRIU options every CRIU strategy has.
import { z } from 'zod';
import { criuOptionFields } from '../criu-common/options.ts';

export const criuOptions = z
  .object({ name: z.literal('criu'), ...criuOptionFields })
  .strict()
  .describe("Stop-and-copy through the shared checkpoint store (the original setup's NFS share).");

export type CriuStrategyOptions = z.output<typeof criuOptions>;
