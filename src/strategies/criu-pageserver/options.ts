// `criu-pageserver`'s options: the CRIU options every CRIU strategy has.
import { z } from 'zod';
import { criuOptionFields } from '../criu-common/options.ts';

export const criuPageserverOptions = z
  .object({ name: z.literal('criu-pageserver'), ...criuOptionFields })
  .strict()
  .describe('Memory pages stream straight to a page server on the target node; no shared store for them.');

export type CriuPageserverStrategyOptions = z.output<typeof criuPageserverOptions>;
