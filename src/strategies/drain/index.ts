// `drain`: cordon the source node and evict the pod (kubectl drain); on both platforms.
import { defineStrategy } from '../entry/entry.ts';
import { KubernetesDrainStrategy } from './kubernetes.ts';
import { DrainStrategy } from './local.ts';
import { drainOptions } from './options.ts';

export const drain = defineStrategy({
  name: 'drain',
  options: drainOptions,
  local: (options) => new DrainStrategy(options),
  kubernetes: (options) => new KubernetesDrainStrategy(options),
});
