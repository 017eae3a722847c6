// Who reaches what on the lab's real nodes, as on any cluster: the kubelet's checkpoint call forced
// through the API server's node proxy moves Redis for a user who has the shipped roles but not
// `nodes/checkpoint` (only `nodes/proxy` of migbench-kubelet-proxy), and run.json then records each
// node's checkpoint gate, CRIU version and features and cgroup version; the node agent answers
// nothing without its token (not to the cluster's administrator either, through the same pod proxy),
// and a user with `pods/proxy` but not the token's Secret is stopped before anything is created.
// Last, the agent image published to a registry (the lab's) by digest, an index of linux/amd64 and
// linux/arm64, and installed from it (each node pulls its own platform).
import { expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';
import {
  AGENT_NAMESPACE,
  AGENT_PORT,
  AGENT_SELECTOR,
  AGENT_TOKEN_HEADER,
  AGENT_TOKEN_SECRET,
} from '../../../src/platforms/kubernetes/agent/agent-manifests.ts';
import { LAB_REGISTRY } from '../../../src/lab/nodes/lab-registry.ts';
import { labUserKubeconfig, redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, applyShipped, bindRole, migbenchAsync, migbenchObjectsIn, type AdminClients } from './cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-agent-access');
const csv = (file: string) => (existsSync(file) ? (parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[]) : []);

/** A shipped ClusterRole less the rules `drop` picks, created under `name`. */
async function shippedRoleWithout(admin: AdminClients, role: string, name: string, drop: (rule: { resources: string[] }) => boolean): Promise<void> {
  const shipped = readFileSync('deploy/kubernetes/clusterrole.yaml', 'utf8')
    .split(/^---$/m)
    .map((d) => parseYaml(d))
    .find((d) => d?.metadata?.name === role);
  const rules = shipped.rules.filter((r: { resources: string[] }) => !drop(r));
  expect(rules.length, `the shipped role ${role} had the rule`).toBe(shipped.rules.length - 1);
  await admin.objects.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules } as never);
}

/** A request to an agent pod through the API server's pod proxy as the admin, with `token` (or none) in the agent's header. */
async function agentThroughProxy(kubeconfig: string, pod: string, path: string, token?: string): Promise<number> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const url = new URL(`${kc.getCurrentCluster()!.server}/api/v1/namespaces/${AGENT_NAMESPACE}/pods/${pod}:${AGENT_PORT}/proxy${path}`);
  const options: import('node:https').RequestOptions & { headers: Record<string, string> } = {
    method: 'GET',
    headers: token ? { [AGENT_TOKEN_HEADER]: token } : {},
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

let admin: AdminClients;

it("moves Redis with the kubelet's checkpoint call through the API server's node proxy, for a user without nodes/checkpoint, and records each node's CRIU and cgroup facts", {
  timeout: 600_000,
}, async () => {
  admin = adminClients(cluster.state.kubeconfig);
  await applyShipped(admin, 'clusterrole.yaml');
  await shippedRoleWithout(admin, 'migbench-nodes', 'migbench-nodes-no-checkpoint', (r) => r.resources.includes('nodes/checkpoint'));
  await bindRole(admin, 'migbench-proxied', 'migbench', 'migbench');
  await bindRole(admin, 'migbench-proxied', 'migbench-nodes-no-checkpoint');
  await bindRole(admin, 'migbench-proxied', 'migbench-kubelet-proxy');
  await bindRole(admin, 'migbench-proxied', 'migbench-agent-user', AGENT_NAMESPACE);
  const kubeconfig = await labUserKubeconfig(cluster, 'migbench-proxied');
  const out = join(cluster.base, 'proxied');
  const scenario = redisNodesScenario(join(cluster.base, 'proxied.yaml'), '  - name: kubelet-checkpoint\n    kubeletAccess: apiServer\nrepetitions: 1');
  const run = await migbenchAsync(['run', scenario, '--warmup', '0', '--kubeconfig', kubeconfig, '--out', out, '--quiet'], 420_000);
  const trials = csv(join(out, 'trials.csv'));
  expect(run.code, `${trials.map((t) => `${t.failed_phase}: ${t.error}`).join('\n')}\n${run.stderr}`).toBe(0);
  expect(trials.map((t) => `${t.strategy} ${t.status}`)).toEqual(['kubelet-checkpoint+kubelet-apiServer ok']);
  expect(trials[0]!.redis_acked_writes_lost).toBe('0');
  const request = csv(join(out, 'events.csv')).find((e) => e.event === 'checkpoint_request');
  expect(request?.detail).toMatch(/kubelet on worker-[ab] through the API server's node proxy/);

  // run.json: the gate through the node proxy (this user may: migbench-kubelet-proxy), the rest from the node agent.
  const runtimes = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).platform.runtimes as Record<string, Record<string, string>>;
  for (const node of cluster.state.nodes.map((n) => n.name)) {
    expect(runtimes[node], `${node}: ${JSON.stringify(runtimes[node])}`).toMatchObject({
      checkpointGate: 'on',
      criu: expect.stringMatching(/^\d+\.\d+/),
      criuPath: expect.stringMatching(/\/criu$/),
      criuFeatures: expect.stringMatching(/^mem_dirty_track (yes|no: .+); uffd (yes|no: .+); uffd-noncoop (yes|no: .+)$/),
      cgroup: expect.stringMatching(/^(v1|v2|hybrid)$/),
    });
    // CRIU itself answered each check (in the node's mount namespace), not its start-up failing.
    expect(runtimes[node]!.criuFeatures, node).not.toMatch(/Could not initialize kernel features detection/);
    expect(runtimes[node]!.agentProblems, node).toBeUndefined();
  }
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
});

it('the node agent answers nothing without its token, and a user who may not read the token is stopped before anything is created', {
  timeout: 300_000,
}, async () => {
  admin ??= adminClients(cluster.state.kubeconfig);
  const pods = (await admin.core.listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: AGENT_SELECTOR })).items;
  const pod = pods[0]!.metadata!.name!;
  const secret = await admin.core.readNamespacedSecret({ name: AGENT_TOKEN_SECRET, namespace: AGENT_NAMESPACE });
  const token = Buffer.from(secret.data!.token!, 'base64').toString('utf8');
  const kubeconfig = cluster.state.kubeconfig;
  // The cluster's administrator reaches the pod proxy; the agent still wants its token.
  expect(await agentThroughProxy(kubeconfig, pod, '/healthz')).toBe(401);
  expect(await agentThroughProxy(kubeconfig, pod, '/healthz', `${token.slice(0, -1)}x`)).toBe(401);
  expect(await agentThroughProxy(kubeconfig, pod, '/v1/node-facts', 'not-the-token')).toBe(401);
  expect(await agentThroughProxy(kubeconfig, pod, '/healthz', token)).toBe(200);
  expect(await agentThroughProxy(kubeconfig, pod, '/readyz')).toBe(200);

  // pods/proxy in the agent's namespace but not the token's Secret: exit 2 naming the permission, nothing created.
  await applyShipped(admin, 'clusterrole.yaml').catch(() => undefined);
  await shippedRoleWithout(admin, 'migbench-agent-user', 'migbench-agent-user-no-token', (r) => r.resources.includes('secrets'));
  for (const [role, ns] of [
    ['migbench', 'migbench'],
    ['migbench-nodes', undefined],
    ['migbench-agent-user-no-token', AGENT_NAMESPACE],
  ] as const)
    await bindRole(admin, 'migbench-no-token', role, ns);
  const user = await labUserKubeconfig(cluster, 'migbench-no-token');
  const out = join(cluster.base, 'no-token');
  const run = await migbenchAsync(
    ['run', redisNodesScenario(join(cluster.base, 'no-token.yaml'), '  - kubelet-checkpoint\nrepetitions: 1'), '--kubeconfig', user, '--out', out],
    120_000,
  );
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/lacks the permission `get secrets migbench-agent-token` in namespace migbench-agent/);
  expect(existsSync(join(out, 'trials.csv'))).toBe(false);
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
});

it('publishes the agent image to a registry by digest, and the nodes run the agent pulled from it', { timeout: 300_000 }, async () => {
  const pushed = await migbenchAsync(['agent', 'image', '--push', LAB_REGISTRY, '--insecure'], 240_000);
  expect(pushed.code, pushed.stderr).toBe(0);
  const reference = pushed.stdout.trim();
  expect(reference).toMatch(new RegExp(`^${LAB_REGISTRY.replace(/\./g, '\\.')}/migbench/agent@sha256:[0-9a-f]{64}$`));
  expect(pushed.stderr).toContain(`migbench agent install --image ${reference}`);
  // The registry holds the image index under that digest, listing both platforms, each manifest and its blobs pushed.
  const digest = reference.slice(reference.indexOf('@') + 1);
  const repository = `http://${LAB_REGISTRY}/v2/migbench/agent`;
  const index = await fetch(`${repository}/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
  expect(index.status).toBe(200);
  expect(index.headers.get('docker-content-digest')).toBe(digest);
  const manifests = ((await index.json()) as { mediaType: string; manifests: Array<{ digest: string; platform: { os: string; architecture: string } }> })
    .manifests;
  expect(manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
  for (const m of manifests) {
    const manifest = (await (
      await fetch(`${repository}/manifests/${m.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
    ).json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const config = (await (await fetch(`${repository}/blobs/${manifest.config.digest}`)).json()) as { architecture: string };
    expect(config.architecture).toBe(m.platform.architecture);
    expect((await fetch(`${repository}/blobs/${manifest.layers[0]!.digest}`, { method: 'HEAD' })).status, m.platform.architecture).toBe(200);
  }
  const installed = await migbenchAsync(['agent', 'install', '--image', reference, '--kubeconfig', cluster.state.kubeconfig], 240_000);
  expect(installed.code, installed.stderr).toBe(0);
  const status = await migbenchAsync(['agent', 'status', '--kubeconfig', cluster.state.kubeconfig]);
  expect(status.stdout).toContain(`migbench agent: ${reference}, ready on 2/2 nodes`);
});
