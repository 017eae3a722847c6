// Which nodes a kubernetes trial uses: the scenario's, else the first schedulable, ready workers —
// never a control-plane node by default, never a cordoned target; a problem is a ClusterError
// naming the field (exit 2 before anything is created).
import { describe, expect, it } from 'vitest';
import { chooseNodes, ClusterError, nodeInfo, type NodeInfo } from '../../../src/platforms/kubernetes/cluster.ts';

const node = (name: string, o: Partial<NodeInfo> = {}): NodeInfo => ({ name, schedulable: true, ready: true, controlPlane: false, ...o });
const nodes = [node('cp', { controlPlane: true }), node('w1', { ready: false }), node('w2'), node('w3', { schedulable: false }), node('w4')];

it.each([
  [{}, { source: 'w2', target: 'w4' }],
  [{ targetNode: 'w2' }, { source: 'w4', target: 'w2' }],
  [{ sourceNode: 'w4' }, { source: 'w4', target: 'w2' }],
  [
    { sourceNode: 'cp', targetNode: 'w2' },
    { source: 'cp', target: 'w2' },
  ],
])('picks %j → %j', (wanted, chosen) => {
  expect(chooseNodes(nodes, wanted)).toEqual(chosen);
});

it.each([
  [{ targetNode: 'w9' }, /^migbench: kubernetes\.targetNode: no node "w9" in the cluster/],
  [{ targetNode: 'w3' }, /^migbench: kubernetes\.targetNode: node w3 is cordoned \(unschedulable\); uncordon it or name another/],
  [{ sourceNode: 'w2', targetNode: undefined, only: true }, /^migbench: kubernetes\.targetNode: the cluster has no second schedulable, ready worker/],
])('refuses %j', (wanted, message) => {
  const cluster = 'only' in wanted ? [node('cp', { controlPlane: true }), node('w2')] : nodes;
  expect(() => chooseNodes(cluster, wanted)).toThrow(ClusterError);
  expect(() => chooseNodes(cluster, wanted)).toThrow(message);
});

it('tells a control-plane node by its role label or its taint', () => {
  expect(nodeInfo({ metadata: { name: 'a', labels: { 'node-role.kubernetes.io/control-plane': '' } } }).controlPlane).toBe(true);
  expect(nodeInfo({ metadata: { name: 'b' }, spec: { taints: [{ key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' }] } }).controlPlane).toBe(true);
  expect(nodeInfo({ metadata: { name: 'c' }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })).toEqual({
    name: 'c',
    schedulable: false,
    ready: true,
    controlPlane: false,
  });
});

describe('kubernetes.nodeSelector and kubernetes.tolerations: any pair the pods may run on, not only the first two workers', () => {
  const pool = [
    node('w1'),
    node('w2'),
    node('w3', { labels: { pool: 'b' } }),
    node('w4', { labels: { pool: 'b' }, taints: [{ key: 'bench', value: 'only', effect: 'NoSchedule' }] }),
    node('w5', { labels: { pool: 'b' } }),
  ];
  it.each([
    [{ nodeSelector: { pool: 'b' } }, { source: 'w3', target: 'w5' }],
    [
      { nodeSelector: { pool: 'b' }, tolerations: [{ key: 'bench', operator: 'Equal' as const, value: 'only', effect: 'NoSchedule' }] },
      { source: 'w3', target: 'w4' },
    ],
    [
      { nodeSelector: { pool: 'b' }, tolerations: [{ operator: 'Exists' as const }] },
      { source: 'w3', target: 'w4' },
    ],
    [{ tolerations: [{ key: 'bench', operator: 'Equal' as const, value: 'other' }] }, { source: 'w1', target: 'w2' }],
  ])('%j → %j', (wanted, chosen) => {
    expect(chooseNodes(pool, wanted)).toEqual(chosen);
  });

  it('refuses a named node the pods may not run on, saying why', () => {
    expect(() => chooseNodes(pool, { nodeSelector: { pool: 'b' }, sourceNode: 'w1' })).toThrow(
      /kubernetes\.sourceNode: node w1 does not carry kubernetes.nodeSelector's pool=b/,
    );
    expect(() => chooseNodes(pool, { targetNode: 'w4' })).toThrow(
      /kubernetes\.targetNode: node w4 has the taint bench=only:NoSchedule, which kubernetes.tolerations does not tolerate/,
    );
    expect(() => chooseNodes(pool, { nodeSelector: { pool: 'c' } })).toThrow(
      /no schedulable, ready worker node its pods may run on \(kubernetes.nodeSelector, kubernetes.tolerations\)/,
    );
  });

  it('reads labels and the taints that keep pods off from the Node object', () => {
    const info = nodeInfo({
      metadata: { name: 'n', labels: { pool: 'b' } },
      spec: {
        taints: [
          { key: 'a', effect: 'NoSchedule' },
          { key: 'b', effect: 'PreferNoSchedule' },
        ],
      },
      status: {},
    });
    expect(info.labels).toEqual({ pool: 'b' });
    expect(info.taints).toEqual([{ key: 'a', effect: 'NoSchedule' }]);
  });
});
