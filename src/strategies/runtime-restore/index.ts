// `runtime-restore`: the kubelet's checkpoint restored below the CRI by the runtime handler `migbench`; kubernetes platform only.
import { defineStrategy } from '../entry/entry.ts';
import { RuntimeRestoreStrategy } from './kubernetes.ts';
import { runtimeRestoreOptions } from './options.ts';
import { kubeletAccessLabel } from '../kubelet-checkpoint/options.ts';

export const runtimeRestore = defineStrategy({
  name: 'runtime-restore',
  options: runtimeRestoreOptions,
  // The local criu strategies' label for the same choice; the archive's way and a forced kubelet route as kubelet-checkpoint's.
  label: (options) =>
    `${options.targetPod === 'before-dump' ? '+target-before-dump' : ''}${options.transfer === 'shared-volume' ? '+shared-volume' : ''}${kubeletAccessLabel(options.kubeletAccess)}`,
  elsewhere: 'runtime-restore restores through a Kubernetes runtime handler and needs platform: kubernetes; criu is its local equivalent',
  kubernetes: (options) => new RuntimeRestoreStrategy(options),
});
