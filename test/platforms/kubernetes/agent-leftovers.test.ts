// Two runs in two namespaces share the nodes' agents: every request that makes a trial's state on a
// node names the trial's namespace (the agent records it there), checkpoint images carry it in their
// name, and `migbench cleanup` asks each node's agent for one namespace's leftovers (or, with
// --all-namespaces only, every namespace's). What the agent does with them: agent/trial_namespace_test.go.
import { expect, it } from 'vitest';
import { AgentCheckpointNodes } from '../../../src/platforms/kubernetes/agent/agent-checkpoints.ts';
import { AgentClient, type AgentAnswer, type AgentPod } from '../../../src/platforms/kubernetes/agent/agent-client.ts';
import { DEFAULT_AGENT_NODE_PATHS } from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import { checkpointImageName } from '../../../src/platforms/kubernetes/checkpoint-nodes.ts';
import type { Cluster } from '../../../src/platforms/kubernetes/cluster.ts';
import { cleanupCommand } from '../../../src/commands/cleanup.ts';
import { CommandFailure, EXIT_USAGE } from '../../../src/commands/exit-codes.ts';

interface SentRequest {
  node: string;
  method: string;
  path: string;
  body: unknown;
}

/** The agent client with the API server's pod proxy cut off: what would be sent, to which node; each agent answers `answer(path)`. */
class SentRequests extends AgentClient {
  readonly sent: SentRequest[] = [];
  private readonly answer: (node: string, path: string) => unknown;
  constructor(answer: (node: string, path: string) => unknown) {
    super({} as Cluster);
    this.answer = answer;
  }
  override async list(): Promise<Map<string, AgentPod>> {
    const pod = (node: string): AgentPod => ({ node, pod: `migbench-agent-${node}`, podIp: '10.244.1.2', ready: true, image: 'agent' });
    return new Map([
      ['worker-a', pod('worker-a')],
      ['worker-b', pod('worker-b')],
    ]);
  }
  override async on(node: string): Promise<AgentPod> {
    return (await this.list()).get(node)!;
  }
  override async call(node: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<AgentAnswer> {
    this.sent.push({ node, method, path, body });
    return { status: 200, body: Buffer.from(JSON.stringify(this.answer(node, path) ?? {})) };
  }
}

it("asks every node's agent for the cleanup's namespace's leftovers only, and for all of them only when told", async () => {
  const agents = new SentRequests((node) => ({ removed: [`checkpoint archive of run-a on ${node}`] }));
  const nodes = new AgentCheckpointNodes(agents, DEFAULT_AGENT_NODE_PATHS);
  expect(await nodes.removeLeftovers({ namespace: 'run-a' })).toEqual(['checkpoint archive of run-a on worker-a', 'checkpoint archive of run-a on worker-b']);
  expect(agents.sent).toEqual([
    { node: 'worker-a', method: 'POST', path: '/v1/leftovers', body: { namespace: 'run-a' } },
    { node: 'worker-b', method: 'POST', path: '/v1/leftovers', body: { namespace: 'run-a' } },
  ]);
  agents.sent.length = 0;
  await nodes.removeLeftovers({ allNamespaces: true });
  expect(agents.sent.map((s) => s.body)).toEqual([{ allNamespaces: true }, { allNamespaces: true }]);
});

it("names the trial's namespace in every request that makes its state on a node, and in its checkpoint image", async () => {
  const agents = new SentRequests((_node, path) => (path.endsWith('/share') || path.endsWith('/take') ? { bytes: 1, sha256: 'ab' } : { reference: 'r' }));
  const nodes = new AgentCheckpointNodes(agents, DEFAULT_AGENT_NODE_PATHS, 'migbench-agent-shared');
  const trial = { key: 'run-b/3', namespace: 'run-b', source: 'worker-a', target: 'worker-b' };
  const image = checkpointImageName(trial.namespace, 'migbench-redis-x', 'run-b-3');
  expect(image).toBe('localhost/migbench-checkpoint/run-b/migbench-redis-x:run-b-3');

  await nodes.prepare(trial);
  await nodes.transfer(trial, 'checkpoint-migbench-redis-x_run-b-redis-2026-12-07T05:00:00Z.tar', 'shared-volume');
  await nodes.buildImage(trial, 'redis', image);
  await nodes.pushImage(trial, { kubeletArchive: 'a.tar', containerName: 'redis', imageName: image, registry: 'registry:5000', plainHttp: true });
  await nodes.prepareRestore(trial);
  await nodes.unpackForRestore(trial);
  const made = agents.sent.map((s) => `${s.node} ${s.method} ${s.path} ${(s.body as { namespace?: string }).namespace}`);
  expect(made).toEqual([
    'worker-a POST /v1/trials/run-b-3/prepare run-b',
    'worker-b POST /v1/trials/run-b-3/prepare run-b',
    'worker-a POST /v1/trials/run-b-3/share run-b',
    'worker-b POST /v1/trials/run-b-3/take run-b',
    'worker-b POST /v1/trials/run-b-3/image run-b',
    'worker-a POST /v1/trials/run-b-3/push run-b',
    'worker-b PUT /v1/trials/run-b-3/restore-dir run-b',
    'worker-b POST /v1/trials/run-b-3/restore-dir run-b',
  ]);
});

it('refuses --all-namespaces on the local platform before removing anything (exit 2)', async () => {
  const refused = await cleanupCommand('local', { stores: [], commandLine: 'migbench cleanup', cluster: { namespace: 'migbench', allNamespaces: true } }).catch(
    (err: unknown) => err,
  );
  expect(refused).toBeInstanceOf(CommandFailure);
  expect((refused as CommandFailure).exitCode).toBe(EXIT_USAGE);
  expect((refused as CommandFailure).message).toContain('--all-namespaces: only with --platform kubernetes (it says whose leftovers go on the nodes)');
});
