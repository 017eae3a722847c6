// `criu-pageserver`: stop-and-copy with the pages sent to a page server on the target; local platform only.
import { criuElsewhere, criuLabel, criuProblems } from '../criu-common/options.ts';
import { defineStrategy } from '../entry/entry.ts';
import { CriuPageserverStrategy } from './local.ts';
import { criuPageserverOptions } from './options.ts';

export const criuPageserver = defineStrategy({
  name: 'criu-pageserver',
  options: criuPageserverOptions,
  label: criuLabel,
  problems: criuProblems,
  elsewhere: criuElsewhere('criu-pageserver'),
  local: (options) => new CriuPageserverStrategy(options),
});
