// `kubelet-checkpoint`: Kubernetes' own checkpoint/restore (KEP-2008); kubernetes platform only.
import { defineStrategy } from '../entry/entry.ts';
import { KubeletCheckpointStrategy } from './kubernetes.ts';
import { kubeletCheckpointOptions } from './options.ts';

export const kubeletCheckpoint = defineStrategy({
  name: 'kubelet-checkpoint',
  options: kubeletCheckpointOptions,
  // A forced kubelet route is part of the label, so a scenario can compare the two routes side by side.
  label: (options) => (options.kubeletAccess === 'auto' ? '' : `+kubelet-${options.kubeletAccess}`),
  elsewhere: "kubelet-checkpoint is Kubernetes' checkpoint API and needs platform: kubernetes; criu is its local equivalent",
  kubernetes: (options) => new KubeletCheckpointStrategy(options),
});
