// `platform: kubernetes` scenarios: which strategies and fields belong to which platform, each
// mistake reported with the field and the fix before anything starts (exit 2).
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/scenario/load.ts';

function problemsOf(text: string) {
  try {
    parseScenario('k8s.yaml', text);
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems.map((p) => ({ path: p.path, expected: p.expected, found: p.found }));
    throw err;
  }
  return [];
}

const K8S = 'platform: kubernetes\nworkloads: [{ type: video }]\n';

describe('kubernetes scenarios', () => {
  it('loads a complete one, with the defaults of the kubernetes block and of podmigration', () => {
    const { scenario, migration } = parseScenario(
      'k8s.yaml',
      `${K8S}kubernetes: { probes: false, targetNode: worker-b }\nstrategies: [drain, redeploy, podmigration]\n`,
    );
    expect(scenario.kubernetes).toEqual({ namespace: 'migbench', probes: false, forceControlPlane: false, kubeletInsecureTls: false, targetNode: 'worker-b' });
    expect(scenario.strategies[2]).toEqual({ name: 'podmigration', api: 'resource', snapshotPath: '/var/lib/kubelet/migration' });
    expect(migration).toEqual({ from: 'the first schedulable worker', to: 'worker-b' });
  });

  it('loads a drain with controller: statefulset (the workload then runs as a StatefulSet of one)', () => {
    const { scenario } = parseScenario('k8s.yaml', `${K8S}kubernetes: { probes: false }\nstrategies: [{ name: drain, controller: statefulset }]\n`);
    expect(scenario.strategies[0]).toEqual({ name: 'drain', gracePeriodSeconds: 30, controller: 'statefulset' });
  });

  it.each([
    [
      'criu on a cluster',
      `${K8S}kubernetes: { probes: false }\nstrategies: [criu]\n`,
      'strategies[0]',
      /criu runs on the local platform; kubelet-checkpoint \(and podmigration\) are CRIU's way on a cluster/,
    ],
    [
      'a local-only strategy after a kubernetes one',
      `${K8S}kubernetes: { probes: false }\nstrategies: [drain, criu-lazy]\n`,
      'strategies[1]',
      /^a kubernetes strategy \(redeploy, drain, podmigration, kubelet-checkpoint, runtime-restore\): criu-lazy runs on the local platform/,
    ],
    [
      'kubelet-checkpoint on the local platform',
      'workloads: [{ type: redis }]\nstrategies: [kubelet-checkpoint]\n',
      'strategies[0]',
      /kubelet-checkpoint is Kubernetes' checkpoint API and needs platform: kubernetes/,
    ],
    ['podmigration on the local platform', 'workloads: [{ type: redis }]\nstrategies: [podmigration]\n', 'strategies[0]', /needs platform: kubernetes/],
    // Every local strategy is named (derived from the registry; the hand-written list had drifted to three of six).
    [
      'podmigration after a local one',
      'workloads: [{ type: redis }]\nstrategies: [criu, podmigration]\n',
      'strategies[1]',
      /^a local strategy \(criu, criu-lazy, criu-pageserver, criu-precopy, redeploy, drain\): podmigration needs platform: kubernetes and the podmigration-operator; criu is its local equivalent$/,
    ],
    ['no kubernetes block', `${K8S}strategies: [drain]\n`, 'kubernetes', /a `kubernetes:` block/],
    ['probes on but no address', `${K8S}kubernetes: {}\nstrategies: [drain]\n`, 'kubernetes.address', /probes: false/],
    [
      'rest without its URL',
      `${K8S}kubernetes: { probes: false, namespace: default }\nstrategies: [{ name: podmigration, api: rest }]\n`,
      'strategies[0].restUrl',
      /REST API URL/,
    ],
    [
      'rest outside namespace default',
      `${K8S}kubernetes: { probes: false }\nstrategies: [{ name: podmigration, api: rest, restUrl: 'http://10.0.0.1:5000' }]\n`,
      'kubernetes.namespace',
      /namespace default only/,
    ],
    [
      'kubelet-checkpoint delivery: registry without a registry',
      `${K8S}kubernetes: { probes: false }\nstrategies: [{ name: kubelet-checkpoint, delivery: registry }]\n`,
      'strategies[0].registry',
      /the registry to push checkpoint images to/,
    ],
    [
      'a checkpoint registry without delivery: registry',
      `${K8S}kubernetes: { probes: false }\nstrategies: [{ name: kubelet-checkpoint, registry: 'registry.example.org:5000' }]\n`,
      'strategies[0].delivery',
      /registry when registry or registryPlainHttp is given/,
    ],
    [
      'a checkpoint registry given as a URL',
      `${K8S}kubernetes: { probes: false }\nstrategies: [{ name: kubelet-checkpoint, delivery: registry, registry: 'https://registry.example.org' }]\n`,
      'strategies[0].registry',
      /HOST\[:PORT\]\[\/PATH\]/,
    ],
    ['the same node twice', `${K8S}kubernetes: { probes: false, sourceNode: a, targetNode: a }\nstrategies: [drain]\n`, 'kubernetes.targetNode', /other than/],
    ['local node fields', `${K8S}kubernetes: { probes: false }\nmigration: { from: node-a }\nstrategies: [drain]\n`, 'migration.from', /kubernetes.sourceNode/],
    // The local platform's fields, filled with defaults by the schema, were silently ignored on a cluster.
    [
      "the local platform's nodes",
      `${K8S}kubernetes: { probes: false }\nnodes: [node-a, node-b]\nstrategies: [drain]\n`,
      'nodes',
      /kubernetes.sourceNode and kubernetes.targetNode/,
    ],
    [
      'a local: block',
      `${K8S}kubernetes: { probes: false }\nlocal: { checkpointStore: tmpfs }\nstrategies: [drain]\n`,
      'local',
      /configure the local platform only/,
    ],
    ['an empty migration', `${K8S}kubernetes: { probes: false }\nmigration: {}\nstrategies: [drain]\n`, 'migration', /kubernetes.sourceNode/],
    [
      'a fixed address with several workloads',
      `platform: kubernetes\nworkloads: [{ type: video }, { type: redis }]\nkubernetes: { address: '10.0.0.5:8080' }\nstrategies: [drain]\n`,
      'kubernetes.address',
      /one workload with a fixed address .* video, redis .* use expose: nodePort or loadBalancer/,
    ],
    [
      'a fixed address with a swept workload',
      `platform: kubernetes\nworkloads: [{ type: video, sweep: { bitrateKbps: [500, 1000] } }]\nkubernetes: { address: '10.0.0.5:8080' }\nstrategies: [drain]\n`,
      'kubernetes.address',
      /all 2/,
    ],
    ['address and expose', `${K8S}kubernetes: { address: '10.0.0.5:8080', expose: nodePort }\nstrategies: [drain]\n`, 'kubernetes.expose', /not both/],
    [
      'nodeAddress with a load balancer',
      `${K8S}kubernetes: { nodeAddress: 10.0.0.5, expose: loadBalancer }\nstrategies: [drain]\n`,
      'kubernetes.nodeAddress',
      /load balancer/,
    ],
    ['an unknown exposure', `${K8S}kubernetes: { expose: portForward }\nstrategies: [drain]\n`, 'kubernetes.expose', /nodePort.*loadBalancer/],
    ['a bad address', `${K8S}kubernetes: { address: 'nowhere' }\nstrategies: [drain]\n`, 'kubernetes.address', /host:port/],
    [
      'a kubernetes block on the local platform',
      'workloads: [{ type: redis }]\nkubernetes: { probes: false }\nstrategies: [criu]\n',
      'kubernetes',
      /platform: kubernetes/,
    ],
  ])('rejects %s, naming the field and the fix', (_, text, path, expected) => {
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.find((p) => p.path === path)!.expected).toMatch(expected);
  });

  it('names every local-only field at once, where it is in the file', () => {
    try {
      parseScenario('k8s.yaml', `${K8S}kubernetes: { probes: false }\nnodes: [a, b]\nlocal: {}\nstrategies: [drain]\n`);
      expect.unreachable();
    } catch (err) {
      expect((err as ScenarioError).problems.map((p) => [p.path, p.where])).toEqual([
        ['nodes', 'line 4'],
        ['local', 'line 5'],
      ]);
    }
  });
});
