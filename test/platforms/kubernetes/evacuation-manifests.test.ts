// An evacuation pod's objects on a cluster (many copies of a workload at once): every name carries
// the run's start and the trial, the claims are renamed with them, and the Service selects only its
// own trial's pods. And the evacuation's targets: named ones each checked, else every other worker.
import { expect, it } from 'vitest';
import { evacuationNameSuffix, evacuationPodObjects } from '../../../src/platforms/kubernetes/evacuation-manifests.ts';
import { prepareManifests, readWorkloadManifests } from '../../../src/platforms/kubernetes/manifests.ts';
import { evacuationTargets, type NodeInfo } from '../../../src/platforms/kubernetes/cluster.ts';

const RUN = '20261206T203000Z-evacuate';

it('names every object of pod 7 with the run and its trial, the claim reference and the Service selector with them', () => {
  expect(evacuationNameSuffix(RUN, 7)).toBe('20261206t203000z-7');
  const objects = evacuationPodObjects(readWorkloadManifests('redis'), RUN, 7);
  expect(objects.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([
    'PersistentVolumeClaim migbench-redis-data-20261206t203000z-7',
    'Deployment migbench-redis-20261206t203000z-7',
    'Service migbench-redis-20261206t203000z-7',
  ]);
  const deployment = objects.find((o) => o.kind === 'Deployment')!;
  expect(deployment.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('migbench-redis-data-20261206t203000z-7');
  const service = objects.find((o) => o.kind === 'Service')!;
  expect(service.spec.selector).toEqual({ app: 'migbench-redis', 'migbench.io/run': RUN, 'migbench.io/trial': '7' });
  // The pods prepareManifests makes carry exactly what the Service selects.
  const prepared = prepareManifests(objects, {
    namespace: 'ns',
    runId: RUN,
    trial: 7,
    shape: 'deployment',
    source: 'a',
    target: 'b',
    replacementNodes: ['b', 'c'],
  });
  for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) expect(prepared.podTemplate.metadata.labels[k]).toBe(v);
  // Starts on the source (preferred), replaced on any of the evacuation's targets.
  const terms = prepared.podTemplate.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
  expect(terms.map((t: { matchFields: { values: string[] }[] }) => t.matchFields[0]!.values[0])).toEqual(['a', 'b', 'c']);
});

const node = (name: string, o: Partial<NodeInfo> = {}): NodeInfo => ({ name, schedulable: true, ready: true, controlPlane: false, ...o });
const nodes = [node('cp', { controlPlane: true }), node('w1'), node('w2'), node('w3', { schedulable: false }), node('w4', { ready: false }), node('w5')];

it('targets: every other schedulable, ready worker by default; named ones checked, each problem naming evacuate.targets[i]', () => {
  expect(evacuationTargets(nodes, {}, 'w1', undefined)).toEqual({ targets: ['w2', 'w5'], problems: [] });
  expect(evacuationTargets(nodes, {}, 'w1', ['w5', 'w2'])).toEqual({ targets: ['w5', 'w2'], problems: [] });
  const { problems } = evacuationTargets(nodes, {}, 'w1', ['w1', 'w3', 'w4', 'w9']);
  expect(problems).toEqual([
    expect.stringMatching(/^migbench: evacuate\.targets\[0\]: w1 is the node the evacuation empties/),
    expect.stringMatching(/^migbench: evacuate\.targets\[1\]: node w3 is cordoned/),
    expect.stringMatching(/^migbench: evacuate\.targets\[2\]: node w4 is NotReady/),
    expect.stringMatching(/^migbench: evacuate\.targets\[3\]: no node "w9" in the cluster/),
  ]);
  expect(evacuationTargets([node('w1'), node('cp', { controlPlane: true })], {}, 'w1', undefined).problems).toEqual([
    expect.stringMatching(/^migbench: evacuate\.targets: the cluster has no schedulable, ready worker other than w1/),
  ]);
});
