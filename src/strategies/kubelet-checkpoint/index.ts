// `kubelet-checkpoint`: Kubernetes' own checkpoint/restore (KEP-2008); kubernetes platform only.
import { defineStrategy, type OptionProblem } from '../entry/entry.ts';
import { KubeletCheckpointStrategy } from './kubernetes.ts';
import { kubeletAccessLabel, kubeletCheckpointOptions } from './options.ts';

export const kubeletCheckpoint = defineStrategy({
  name: 'kubelet-checkpoint',
  options: kubeletCheckpointOptions,
  problems(options) {
    const problems: OptionProblem[] = [];
    if (options.delivery === 'registry' && options.registry === undefined)
      problems.push({
        option: 'registry',
        expected: 'the registry to push checkpoint images to with delivery: registry (HOST[:PORT][/PATH]), or delivery: import',
        found: 'nothing',
      });
    if (options.delivery !== 'registry' && (options.registry !== undefined || options.registryPlainHttp !== undefined))
      problems.push({
        option: 'delivery',
        expected: 'registry when registry or registryPlainHttp is given (or leave them out)',
        found: JSON.stringify(options.delivery ?? 'import'),
      });
    if (options.delivery === 'registry' && options.transfer === 'shared-volume')
      problems.push({
        option: 'transfer',
        expected:
          'no shared-volume with delivery: registry (the image goes through the registry, no archive moves between the agents); use delivery: import or leave transfer out',
        found: JSON.stringify(options.transfer),
      });
    return problems;
  },
  // The delivery, the archive's way and a forced kubelet route show in trials.csv's strategy label only when they are
  // not the default, so a scenario can compare them side by side.
  label: (options) =>
    `${options.delivery === 'registry' ? '+registry' : ''}${options.transfer === 'shared-volume' ? '+shared-volume' : ''}${kubeletAccessLabel(options.kubeletAccess)}`,
  elsewhere: "kubelet-checkpoint is Kubernetes' checkpoint API and needs platform: kubernetes; criu is its local equivalent",
  kubernetes: (options) => new KubeletCheckpointStrategy(options),
});
