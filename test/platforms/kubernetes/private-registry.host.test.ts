// The lab's nodes pulling from a private registry as users' clusters do: HTTPS with a certificate of
// the cluster owner's own CA (each node's containerd told of it in a hosts.toml, lab-registry.ts
// trustRegistry) and a login (htpasswd), given to the pods as a kubernetes.io/dockerconfigjson
// Secret made with `kubectl create secret docker-registry` and named in kubernetes.imagePullSecrets,
// and to the node agents with `migbench agent install --registry-secret --registry-ca`. Redis, from
// its image pushed there (`images build --push`, crane with the login and the CA as a user's docker
// config and trust store), moves by kubelet-checkpoint with `delivery: registry`: the source's agent
// pushes the checkpoint image there and the target's kubelet pulls it with the Secret. Without the
// Secret the run stops before its first trial, naming the image the nodes may not pull.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { nodeRegistryConfigPath, trustRegistry, untrustRegistry } from '../../../src/lab/nodes/lab-registry.ts';
import { exec } from '../../../src/system/exec.ts';
import { PRIVATE_REGISTRY_DIR, PRIVATE_REGISTRY_STORAGE, startPrivateRegistry, type PrivateRegistry } from '../../helpers/private-registry.ts';
import { useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, migbenchAsync, migbenchObjectsIn, type AdminClients } from './cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-private-registry');
const SECRET = 'private-registry-login';
const NAMESPACE = 'migbench';

/** `text` as a regular expression matching it literally. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const csv = (file: string) => (existsSync(file) ? (parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[]) : []);

let registry: PrivateRegistry | undefined;
let admin: AdminClients;
let nodes: string[] = [];
let redisImage = '';

/** kubectl of the lab (the kubelet's version) with the admin's kubeconfig. */
const kubectl = (args: string[]) => exec(cluster.state.binaries.kubectl, ['--kubeconfig', cluster.state.kubeconfig, ...args], { timeoutMs: 30_000 });

/** Everything the file made outside the lab's own state; idempotent, so the last test and afterAll (after a failure) share it. */
async function removeWhatWasMade(): Promise<void> {
  await kubectl(['-n', NAMESPACE, 'delete', 'secret', SECRET, '--ignore-not-found']).catch(() => undefined);
  if (registry) {
    await untrustRegistry(nodes, registry.host);
    await registry.stop();
  }
}

/** scenarios/k8s-nodes.yaml: Redis from `image` in the private registry moved once by kubelet-checkpoint through it, with `pullSecrets`. */
function privateScenario(file: string, image: string, pullSecrets: string[]): string {
  const reg = registry!;
  const text = readFileSync('scenarios/k8s-nodes.yaml', 'utf8')
    .replace(/^kubernetes:\n/m, `kubernetes:\n  images:\n    redis: ${image}\n${pullSecrets.length ? `  imagePullSecrets: [${pullSecrets.join(', ')}]\n` : ''}`)
    .replace(/^workloads:[\s\S]*?^strategies:/m, 'workloads:\n  - type: redis\nstrategies:')
    .replace(
      /^strategies:[\s\S]*?^repetitions:.*$/m,
      ['strategies:', '  - name: kubelet-checkpoint', '    delivery: registry', `    registry: ${reg.host}`, 'repetitions: 1'].join('\n'),
    )
    .replace(/^\s+settleMs:.*$/m, '  settleMs: 1000');
  writeFileSync(file, text);
  return file;
}

beforeAll(async () => {
  const { state } = cluster;
  admin = adminClients(state.kubeconfig);
  nodes = state.nodes.map((n) => n.name);
  registry = await startPrivateRegistry(state.binaries.registry);
  // The nodes' containerd runs already: hosts.toml is read at each pull, no restart.
  await trustRegistry(nodes, registry.host, registry.caPem);
  // As a user pushes: logged in (docker config) and trusting the CA (Go's SSL_CERT_FILE, crane's TLS roots).
  const pushed = await migbenchAsync(['images', 'build', '--workload', 'redis', '--push', registry.host], 300_000, {
    DOCKER_CONFIG: registry.dockerConfigDir,
    SSL_CERT_FILE: registry.caFile,
  });
  expect(pushed.code, pushed.stderr).toBe(0);
  redisImage = /^\s+redis: (\S+@sha256:[0-9a-f]{64})/m.exec(pushed.stdout)?.[1] ?? '';
  expect(redisImage, pushed.stdout).toMatch(new RegExp(`^${escape(registry.host)}/migbench/redis@sha256:`));
  // The registry wants its login: anonymous reads are refused.
  expect((await registry.get('/v2/_catalog', true)).status).toBe(401);
  expect(await registry.catalog()).toContain('migbench/redis');
  // The Secret as the Fix of `agent install --registry-secret` tells users to make it.
  await kubectl([
    '-n',
    NAMESPACE,
    'create',
    'secret',
    'docker-registry',
    SECRET,
    `--docker-server=${registry.host}`,
    `--docker-username=${registry.user}`,
    `--docker-password=${registry.password}`,
  ]);
  const installed = await migbenchAsync(
    ['agent', 'install', '--registry-secret', `${NAMESPACE}/${SECRET}`, '--registry-ca', registry.caFile, '--kubeconfig', state.kubeconfig],
    180_000,
  );
  expect(installed.code, installed.stderr).toBe(0);
  expect(installed.stdout).toContain(`registry logins from Secret ${NAMESPACE}/${SECRET}`);
  const status = await migbenchAsync(['agent', 'status', '--kubeconfig', state.kubeconfig], 60_000);
  expect(status.stdout).toMatch(/ready on 2\/2 nodes, registry logins and CA mounted/);
}, 400_000);

afterAll(removeWhatWasMade, 60_000);

// First, while no node holds the image: with it present a pod pulling IfNotPresent asks no registry.
it('without the Secret the run fails before its first trial, naming the image the nodes may not pull (the CA trusted, the login missing)', {
  timeout: 120_000,
}, async () => {
  const out = join(cluster.base, 'no-secret');
  const started = performance.now();
  const run = await migbenchAsync(['run', privateScenario(join(cluster.base, 'no-secret.yaml'), redisImage, []), '--warmup', '0', '--out', out], 100_000);
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`private registry: the run without the Secret ended in ${seconds.toFixed(1)} s\n`);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(new RegExp(`node worker-[ab] cannot pull ${escape(redisImage)}: (ErrImagePull|ImagePullBackOff)`));
  // The pull got past TLS (the node trusts the CA) to the registry's refusal of an anonymous client.
  expect(run.stderr).toMatch(/unauthorized|401|authoriz/i);
  expect(run.stderr).not.toMatch(/x509|certificate signed by unknown authority/);
  expect(seconds, 'failed at once, not after the ready timeout').toBeLessThan(30);
  expect(csv(join(out, 'trials.csv'))).toEqual([]);
  expect(await migbenchObjectsIn(admin, NAMESPACE)).toEqual([]);
});

it('with the Secret: Redis pulled from the private registry moves by kubelet-checkpoint through it, no acknowledged write lost', {
  timeout: 240_000,
}, async () => {
  const reg = registry!;
  const out = join(cluster.base, 'with-secret');
  // The pods' images as the kubelets report them, seen while the run goes (its pods are gone after it).
  const seen = new Set<string>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const pods = await admin.core.listNamespacedPod({ namespace: NAMESPACE }).catch(() => ({ items: [] }));
      for (const p of pods.items)
        for (const c of p.status?.containerStatuses ?? []) if (c.imageID) seen.add(`${p.spec?.nodeName} ${p.metadata?.name} ${c.imageID}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const started = performance.now();
  const run = await migbenchAsync(
    ['run', privateScenario(join(cluster.base, 'with-secret.yaml'), redisImage, [SECRET]), '--warmup', '0', '--out', out, '--quiet'],
    220_000,
  );
  watching = false;
  await watch;
  process.stderr.write(`private registry: the run with the Secret took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const trials = csv(join(out, 'trials.csv'));
  expect(run.code, `${trials.map((t) => `${t.failed_phase}: ${t.error}`).join('\n')}\n${run.stderr.slice(-6000)}`).toBe(0);
  expect(trials.map((t) => `${t.workload} ${t.strategy} ${t.status}`)).toEqual(['redis kubelet-checkpoint+registry ok']);
  const t = trials[0]!;
  expect(t.redis_acked_writes_lost, 'acknowledged writes lost').toBe('0');
  expect(Number(t.image_push_ms), 'pushed by the agent').toBeGreaterThan(0);
  expect(Number(t.image_pull_ms), 'pulled by the kubelet').toBeGreaterThan(0);
  process.stderr.write(
    `private registry phases: ${['checkpoint_api_ms', 'image_push_ms', 'image_pull_ms', 'restore_ms', 'downtime_ms'].map((p) => `${p}=${t[p]}`).join(' ')}\n`,
  );

  // The kubelet of each node pulled Redis' image from the private registry (the pull pods, with the Secret).
  const host = reg.host;
  const pulls = (await admin.core.listNamespacedEvent({ namespace: NAMESPACE })).items
    .filter((e) => e.reason === 'Pulled')
    .map((e) => `${e.source?.host ?? e.reportingInstance} ${e.message ?? ''}`);
  for (const node of nodes)
    expect(
      pulls.some((m) => m.startsWith(`${node} Successfully pulled image "${redisImage}"`)),
      `${node}:\n${pulls.join('\n')}`,
    ).toBe(true);
  // The trial's pod ran it on the source, the kubelet reporting the private registry's digest; the
  // restored pod on the target reports the same image (containerd names the image a checkpoint was taken of).
  const ran = `${host}/migbench/redis${redisImage.slice(redisImage.indexOf('@'))}`;
  const pods = [...seen].join('\n');
  expect(pods).toMatch(new RegExp(`^worker-a migbench-redis\\S* ${escape(ran)}$`, 'm'));
  expect(pods).toMatch(new RegExp(`^worker-b migbench-redis\\S*-restored ${escape(ran)}$`, 'm'));
  // The checkpoint image: pushed there by the source's agent, pulled from there by the target's kubelet with the Secret.
  const pushedEvent = csv(join(out, 'events.csv')).find((e) => e.event === 'image_pushed');
  const checkpointImage = /^(\S+@sha256:[0-9a-f]{64})/.exec(pushedEvent?.detail ?? '')?.[1] ?? '';
  expect(checkpointImage, pushedEvent?.detail).toMatch(new RegExp(`^${escape(host)}/migbench-checkpoint/`));
  expect(
    pulls.some((m) => m.startsWith(`worker-b Successfully pulled image "${checkpointImage}"`)),
    pulls.join('\n'),
  ).toBe(true);
  // …and deleted from it after the trial: its repository there, no tag left.
  const repository = checkpointImage.slice(host.length + 1, checkpointImage.indexOf('@'));
  expect(await reg.catalog()).toContain(repository);
  const tags = await reg.get(`/v2/${repository}/tags/list`);
  expect(tags.status === 404 ? [] : ((JSON.parse(tags.body) as { tags: string[] | null }).tags ?? []), 'tags left').toEqual([]);
  expect(await migbenchObjectsIn(admin, NAMESPACE)).toEqual([]);
});

it('removes what it made: the registry process, its files and storage, the nodes’ hosts.toml, the Secret', { timeout: 60_000 }, async () => {
  const reg = registry!;
  const pid = reg.pid();
  expect(pid).toBeDefined();
  await removeWhatWasMade();
  expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), 'the registry process is gone').toBe(false);
  expect(existsSync(PRIVATE_REGISTRY_DIR)).toBe(false);
  expect(existsSync(PRIVATE_REGISTRY_STORAGE)).toBe(false);
  for (const node of nodes) expect(existsSync(join(nodeRegistryConfigPath(node), reg.host)), node).toBe(false);
  const secrets = await admin.core.listNamespacedSecret({ namespace: NAMESPACE });
  expect(secrets.items.map((s) => s.metadata?.name)).not.toContain(SECRET);
});
