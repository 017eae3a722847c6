// `podmigration`: the SSU-DCN podmigration-operator's live migration; kubernetes platform only.
import { defineStrategy, type OptionProblem } from '../entry/entry.ts';
import { PodmigrationStrategy } from './kubernetes.ts';
import { podmigrationOptions } from './options.ts';

export const podmigration = defineStrategy({
  name: 'podmigration',
  options: podmigrationOptions,
  problems(options, scenario) {
    if (options.api !== 'rest') return [];
    const problems: OptionProblem[] = [];
    if (options.restUrl === undefined)
      problems.push({
        option: 'restUrl',
        expected: "the operator's REST API URL with api: rest (e.g. http://10.0.0.1:5000), or api: resource",
        found: 'nothing',
      });
    // The operator's api-server creates every Podmigration in, and looks for source pods in, `default`.
    if (scenario.kubernetesNamespace !== undefined && scenario.kubernetesNamespace !== 'default') {
      problems.push({
        scenarioField: 'kubernetes.namespace',
        expected: "default with podmigration api: rest (the operator's REST API works in namespace default only), or api: resource",
        found: JSON.stringify(scenario.kubernetesNamespace),
      });
    }
    return problems;
  },
  elsewhere: 'podmigration needs platform: kubernetes and the podmigration-operator; criu is its local equivalent',
  kubernetes: (options) => new PodmigrationStrategy(options),
});
