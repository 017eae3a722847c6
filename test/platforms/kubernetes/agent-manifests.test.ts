// The agent's DaemonSet as `migbench agent install` applies it: the token Secret mounted read-only
// (root-only file) and named in its environment, readiness on the one path the agent answers without
// the token, and a NetworkPolicy that admits its port from the other agents and the API server's
// addresses only. And a trial's pods name that trial's own CRIU options files.
import { expect, it } from 'vitest';
import {
  AGENT_PORT,
  AGENT_TOKEN_SECRET,
  agentObjects,
  criuConfigFiles,
  DEFAULT_AGENT_NODE_PATHS,
} from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import { AgentCheckpointNodes } from '../../../src/platforms/kubernetes/agent/agent-checkpoints.ts';
import type { AgentClient } from '../../../src/platforms/kubernetes/agent/agent-client.ts';

it('mounts the token Secret, probes /readyz and admits the agent port only from the agents and the API server', () => {
  const objects = agentObjects('registry.example/migbench-agent@sha256:abc', DEFAULT_AGENT_NODE_PATHS, undefined, ['10.0.0.10', '10.244.0.0/24', 'fd00::1']);
  expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'DaemonSet', 'NetworkPolicy']);
  const pod = objects[1]!.spec.template.spec;
  const container = pod.containers[0];
  expect(pod.volumes).toContainEqual({ name: 'token', secret: { secretName: AGENT_TOKEN_SECRET, defaultMode: 0o400 } });
  expect(container.volumeMounts).toContainEqual({ name: 'token', mountPath: '/etc/migbench-agent', readOnly: true });
  expect(container.env).toContainEqual({ name: 'AGENT_TOKEN_FILE', value: '/etc/migbench-agent/token' });
  expect(container.readinessProbe.httpGet.path).toBe('/readyz');
  expect(container.ports).toEqual([{ name: 'agent', containerPort: AGENT_PORT, protocol: 'TCP' }]);
  expect(pod.hostNetwork).toBeUndefined();
  const policy = objects[2]!.spec;
  expect(policy.policyTypes).toEqual(['Ingress']);
  expect(policy.ingress).toEqual([
    {
      from: [
        { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'migbench-agent' } } },
        { ipBlock: { cidr: '10.0.0.10/32' } },
        { ipBlock: { cidr: '10.244.0.0/24' } },
        { ipBlock: { cidr: 'fd00::1/128' } },
      ],
      ports: [{ protocol: 'TCP', port: AGENT_PORT }],
    },
  ]);
});

it("names each trial's own CRIU options files in its pods' org.criu.config, so two runs on one node never share one", () => {
  const nodes = new AgentCheckpointNodes({} as AgentClient, DEFAULT_AGENT_NODE_PATHS);
  const a = nodes.checkpointPodAnnotations('run-a/1')['org.criu.config'];
  const b = nodes.checkpointPodAnnotations('run-b/1')['org.criu.config'];
  expect(a).toBe('/var/lib/migbench-agent/criu/trials/run-a-1/checkpoint.conf');
  expect(b).not.toBe(a);
  expect(nodes.restorePodAnnotations('run-a/1')['org.criu.config']).toBe(criuConfigFiles(DEFAULT_AGENT_NODE_PATHS, 'run-a-1').restore);
});
