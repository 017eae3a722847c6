import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/scenario/load.ts';
import { planTrials } from '../../src/plan/plan.ts';

const base = `nodes: [node-a, node-b, node-c]
workloads: [{ type: redis, keys: 100 }]
strategies: [criu, drain]
repetitions: 1
`;

function problems(yaml: string): string[] {
  try {
    parseScenario('e.yaml', yaml);
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`);
    throw err;
  }
  return [];
}

describe('evacuate: in a scenario', () => {
  it('names each bad field with what it expects', () => {
    const found = problems(
      `${base}evacuate: { pods: [{ workload: redis, count: 0 }, { workload: nginx }], concurrency: 0, targets: [node-a, node-x], sweep: { count: [2, 2] } }\n`,
    );
    expect(found).toEqual(
      expect.arrayContaining([expect.stringMatching(/^evacuate\.pods\[0\]\.count: expected a number ≥ 1/), expect.stringMatching(/^evacuate\.concurrency: /)]),
    );
    const cross = problems(`${base}evacuate: { pods: [{ workload: nginx, count: 2 }], targets: [node-a, node-x, node-x], sweep: { count: [2, 2] } }\n`);
    expect(cross).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^evacuate\.pods\[0\]\.workload: expected the name of a workload in `workloads` \(redis\), found "nginx"/),
        expect.stringMatching(/^workloads\[0\]: expected a workload that `evacuate\.pods` uses/),
        expect.stringMatching(/^evacuate\.targets\[0\]: expected a node other than the one evacuated \(migration\.from: node-a\)/),
        expect.stringMatching(/^evacuate\.targets\[1\]: expected one of the nodes/),
        expect.stringMatching(/^evacuate\.targets\[2\]: expected distinct nodes/),
        expect.stringMatching(/^evacuate\.sweep\.count\[1\]: expected distinct values, found 2 twice/),
      ]),
    );
  });

  it('is accepted on the kubernetes platform: its targets are checked against the cluster, the plan names them or kubernetes.targetNode', () => {
    const k8s = `platform: kubernetes\nkubernetes: { probes: false, sourceNode: worker-a, targetNode: worker-b }\nworkloads: [{ type: redis }, { type: video }]\nstrategies: [drain, kubelet-checkpoint]\nrepetitions: 1\n`;
    expect(problems(`${k8s}evacuate: { pods: [{ workload: redis, count: 2 }, { workload: video }], concurrency: 2, targets: [worker-b, worker-c] }\n`)).toEqual(
      [],
    );
    // Only the cluster knows its nodes: a target no node has is found by the run's cluster check, not here.
    const spread = planTrials(
      parseScenario('k.yaml', `${k8s}evacuate: { pods: [{ workload: redis, count: 2 }, { workload: video }], targets: [worker-b, worker-c] }\n`).scenario,
    );
    expect(spread.filter((t) => t.strategy.name === 'drain').map((t) => [t.evacuation!.pod, t.evacuation!.target])).toEqual([
      ['redis-p1', 'worker-b'],
      ['redis-p2', 'worker-c'],
      ['video-p1', 'worker-b'],
    ]);
    const pinned = planTrials(parseScenario('k.yaml', `${k8s}evacuate: { pods: [{ workload: redis, count: 2 }, { workload: video }] }\n`).scenario);
    expect(new Set(pinned.map((t) => t.evacuation!.target))).toEqual(new Set(['worker-b']));
    // Still checked without a cluster: repeated targets, the workloads.
    expect(problems(`${k8s}evacuate: { pods: [{ workload: redis }], targets: [worker-b, worker-b] }\n`)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^evacuate\.targets\[1\]: expected distinct nodes/),
        expect.stringMatching(/^workloads\[1\]: expected a workload that/),
      ]),
    );
  });

  it("plans one trial per pod, an evacuation's pods consecutive, spread over the targets, for every sweep point × strategy", () => {
    const { scenario } = parseScenario(
      'e.yaml',
      `${base}evacuate: { pods: [{ workload: redis, count: 3 }], targets: [node-b, node-c], sweep: { count: [1, 3], concurrency: [1, all] } }\n`,
    );
    const trials = planTrials(scenario);
    // (1 pod — concurrency 1 and all are the same evacuation — + 3 pods × 2 concurrencies) × 2 strategies.
    expect(trials).toHaveLength(14);
    const ids = trials.map((t) => t.evacuation!.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(6);
    const three = trials.filter((t) => t.evacuation!.pods === 3 && t.workloadName === 'redis-n3-c3');
    expect(three.map((t) => [t.evacuation!.pod, t.evacuation!.target, t.evacuation!.concurrency, t.workload.name])).toEqual([
      ['redis-p1', 'node-b', 3, 'redis-p1'],
      ['redis-p2', 'node-c', 3, 'redis-p2'],
      ['redis-p3', 'node-b', 3, 'redis-p3'],
      ['redis-p1', 'node-b', 3, 'redis-p1'],
      ['redis-p2', 'node-c', 3, 'redis-p2'],
      ['redis-p3', 'node-b', 3, 'redis-p3'],
    ]);
    expect(trials.map((t) => t.trial)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(new Set(trials.map((t) => t.workloadName))).toEqual(new Set(['redis-n1-c1', 'redis-n3-c1', 'redis-n3-c3']));
  });
});
