// `criu-lazy`'s options: the CRIU options, runtime limited to runc.
import { z } from 'zod';
import { criuOptionFields } from '../criu-common/options.ts';

export const criuLazyOptions = z
  .object({
    name: z.literal('criu-lazy'),
    ...criuOptionFields,
    // Post-copy needs runc's lazy dump plumbing (status fd, page server kept running); criu-direct.ts has none.
    runtime: z
      .enum(['runc'])
      .describe(
        "Who drives CRIU for this strategy: runc only (post-copy needs runc's lazy dump plumbing). Unset: the platform's `local.runtime`. Local platform only.",
      )
      .optional(),
  })
  .strict()
  .describe('Post-copy: the target resumes before the memory has arrived; pages follow on demand from the source.');

export type CriuLazyStrategyOptions = z.output<typeof criuLazyOptions>;
