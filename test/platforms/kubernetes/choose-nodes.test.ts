// Which nodes a kubernetes trial uses: the scenario's, else the first schedulable, ready workers —
// never a control-plane node by default, never a cordoned target; a problem is a ClusterError
// naming the field (exit 2 before anything is created).
import { expect, it } from 'vitest';
import { chooseNodes, ClusterError, nodeInfo, type NodeInfo } from '../../../src/platforms/kubernetes/cluster.ts';

const node = (name: string, o: Partial<NodeInfo> = {}): NodeInfo => ({ name, schedulable: true, ready: true, controlPlane: false, ...o });
const nodes = [node('cp', { controlPlane: true }), node('w1', { ready: false }), node('w2'), node('w3', { schedulable: false }), node('w4')];

it.each([
  [{}, { source: 'w2', target: 'w4' }],
  [{ targetNode: 'w2' }, { source: 'w4', target: 'w2' }],
  [{ sourceNode: 'w4' }, { source: 'w4', target: 'w2' }],
  [{ sourceNode: 'cp', targetNode: 'w2' }, { source: 'cp', target: 'w2' }],
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
  expect(nodeInfo({ metadata: { name: 'c' }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })).toEqual({ name: 'c', schedulable: false, ready: true, controlPlane: false });
});
