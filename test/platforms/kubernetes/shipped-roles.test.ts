// The shipped roles (deploy/kubernetes/clusterrole.yaml) stay the least that works: every rule is
// one the code needs, written out in full here, so a rule added or widened fails this test and has
// to be argued for. nodes/proxy (the kubelet's whole API) is only in its own role; the agent's token
// Secret is readable by name only; no role has a wildcard. The host tests (rbac, kubelet-checkpoint,
// agent-access) show that these rules are enough for each strategy.
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const roles = Object.fromEntries(
  parseAllDocuments(readFileSync('deploy/kubernetes/clusterrole.yaml', 'utf8'))
    .map((d) => d.toJS() as { kind: string; metadata: { name: string }; rules: Rule[] })
    .filter((d) => d?.kind === 'ClusterRole')
    .map((d) => [
      d.metadata.name,
      d.rules.map(
        (r) => `${r.apiGroups.join(',') || 'core'} ${r.resources.join(',')}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}: ${r.verbs.join(',')}`,
      ),
    ]),
);

it('grants exactly the rules migbench uses, nodes/proxy in its own role and the agent token by name', () => {
  expect(roles).toEqual({
    migbench: [
      'core services,persistentvolumeclaims: list,create,patch,delete',
      'apps deployments,statefulsets: list,create,patch,delete',
      'core pods: list,watch,create,patch,delete',
      'core pods/eviction: create',
      'podmig.dcn.ssu.ac.kr podmigrations: list,create,delete',
      'discovery.k8s.io endpointslices: list,watch',
      'core events: list',
    ],
    'migbench-nodes': [
      'core nodes: list,patch',
      'core nodes/checkpoint: create',
      'storage.k8s.io storageclasses: list',
      'core persistentvolumes: list',
      'core namespaces: get',
    ],
    'migbench-kubelet-proxy': ['core nodes/proxy: get,create'],
    'migbench-agent-user': ['core pods: list', 'core pods/proxy: get,create,delete', 'apps daemonsets: get', 'core secrets[migbench-agent-token]: get'],
  });
  const all = Object.values(roles).flat();
  expect(all.filter((r) => r.includes('*'))).toEqual([]);
  expect(all.filter((r) => r.includes('secrets') && !r.includes('[migbench-agent-token]'))).toEqual([]);
});
