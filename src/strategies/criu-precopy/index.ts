// `criu-precopy`: pre-dumps while the pod runs, then a short final dump; local platform only.
import { criuElsewhere, criuLabel, criuProblems } from '../criu-common/options.ts';
import { defineStrategy } from '../entry/entry.ts';
import { CriuPrecopyStrategy } from './local.ts';
import { criuPrecopyOptions } from './options.ts';

export const criuPrecopy = defineStrategy({
  name: 'criu-precopy',
  options: criuPrecopyOptions,
  label: criuLabel,
  problems: criuProblems,
  elsewhere: criuElsewhere('criu-precopy'),
  local: (options) => new CriuPrecopyStrategy(options),
});
