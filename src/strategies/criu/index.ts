// `criu`: stop-and-copy through the shared checkpoint store; local platform only.
import { criuElsewhere, criuLabel, criuProblems } from '../criu-common/options.ts';
import { defineStrategy } from '../entry/entry.ts';
import { CriuStrategy } from './local.ts';
import { criuOptions } from './options.ts';

export const criu = defineStrategy({
  name: 'criu',
  options: criuOptions,
  label: criuLabel,
  problems: criuProblems,
  elsewhere: criuElsewhere('criu'),
  local: (options) => new CriuStrategy(options),
});
