// `criu`: stop-and-copy through the shared checkpoint store; local platform only.
import { criuElsewhere, criuLabelFor, criuProblems } from '../criu-common/options.ts';
import { defineStrategy } from '../entry/entry.ts';
import { CriuStrategy } from './local.ts';
import { CRIU_DEFAULTS, criuOptions } from './options.ts';

export const criu = defineStrategy({
  name: 'criu',
  options: criuOptions,
  label: criuLabelFor(CRIU_DEFAULTS),
  problems: criuProblems,
  elsewhere: criuElsewhere('criu'),
  local: (options) => new CriuStrategy(options),
});
