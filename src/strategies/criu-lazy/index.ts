// `criu-lazy`: post-copy; local platform only.
import { criuElsewhere, criuLabel, criuProblems } from '../criu-common/options.ts';
import { defineStrategy } from '../entry/entry.ts';
import { CriuLazyStrategy } from './local.ts';
import { criuLazyOptions } from './options.ts';

export const criuLazy = defineStrategy({
  name: 'criu-lazy',
  options: criuLazyOptions,
  label: criuLabel,
  problems: criuProblems,
  elsewhere: criuElsewhere('criu-lazy'),
  local: (options) => new CriuLazyStrategy(options),
});
