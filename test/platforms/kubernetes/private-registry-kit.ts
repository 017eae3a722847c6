// What the lab tests through a private registry share (private-registry.host.test.ts: htpasswd;
// token-registry.host.test.ts: token authentication): Redis' image pushed there as a user pushes,
// the logins as Secrets, the agent given one, and the two runs: one whose nodes may not pull (it
// stops before its first trial) and one that moves Redis by kubelet-checkpoint through the registry.
import { expect } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { nodeRegistryConfigPath, untrustRegistry } from '../../../src/lab/nodes/lab-registry.ts';
import { exec } from '../../../src/system/exec.ts';
import type { PrivateRegistry } from '../../helpers/private-registry.ts';
import type { RealNodeClusterHandle } from '../../helpers/real-node-cluster.ts';
import { migbenchAsync, migbenchObjectsIn, type AdminClients } from './cluster-kit.ts';

export const NAMESPACE = 'migbench';

/** `text` as a regular expression matching it literally. */
export const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const csv = (file: string) => (existsSync(file) ? (parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[]) : []);

/** kubectl of the lab (the kubelet's version) with the admin's kubeconfig. */
export const kubectl = (cluster: RealNodeClusterHandle, args: string[]) =>
  exec(cluster.state.binaries.kubectl, ['--kubeconfig', cluster.state.kubeconfig, ...args], { timeoutMs: 30_000 });

/** scenarios/k8s-nodes.yaml: Redis from `image` in `registry` moved once by kubelet-checkpoint through it, with `pullSecrets`. */
export function privateScenario(file: string, registry: PrivateRegistry, image: string, pullSecrets: readonly string[]): string {
  const text = readFileSync('scenarios/k8s-nodes.yaml', 'utf8')
    .replace(/^kubernetes:\n/m, `kubernetes:\n  images:\n    redis: ${image}\n${pullSecrets.length ? `  imagePullSecrets: [${pullSecrets.join(', ')}]\n` : ''}`)
    .replace(/^workloads:[\s\S]*?^strategies:/m, 'workloads:\n  - type: redis\nstrategies:')
    .replace(
      /^strategies:[\s\S]*?^repetitions:.*$/m,
      ['strategies:', '  - name: kubelet-checkpoint', '    delivery: registry', `    registry: ${registry.host}`, 'repetitions: 1'].join('\n'),
    )
    .replace(/^\s+settleMs:.*$/m, '  settleMs: 1000');
  writeFileSync(file, text);
  return file;
}

/**
 * `migbench images build --workload redis --push <registry>` as a user pushes: logged in (docker
 * config) and trusting the CA (Go's SSL_CERT_FILE, crane's TLS roots). Returns the pushed image by digest.
 */
export async function pushRedis(registry: PrivateRegistry): Promise<string> {
  const pushed = await migbenchAsync(['images', 'build', '--workload', 'redis', '--push', registry.host], 300_000, {
    DOCKER_CONFIG: registry.dockerConfigDir,
    SSL_CERT_FILE: registry.caFile,
  });
  expect(pushed.code, pushed.stderr).toBe(0);
  const image = /^\s+redis: (\S+@sha256:[0-9a-f]{64})/m.exec(pushed.stdout)?.[1] ?? '';
  expect(image, pushed.stdout).toMatch(new RegExp(`^${escape(registry.host)}/migbench/redis@sha256:`));
  return image;
}

/** A kubernetes.io/dockerconfigjson Secret `name` for `login` at `registry`, as the Fix of `agent install --registry-secret` tells users to make it. */
export async function createLoginSecret(
  cluster: RealNodeClusterHandle,
  name: string,
  registry: PrivateRegistry,
  login: { user: string; password: string },
): Promise<void> {
  await kubectl(cluster, [
    '-n',
    NAMESPACE,
    'create',
    'secret',
    'docker-registry',
    name,
    `--docker-server=${registry.host}`,
    `--docker-username=${login.user}`,
    `--docker-password=${login.password}`,
  ]);
}

/** `migbench agent install --registry-secret <secret> --registry-ca <the registry's CA>`; the agents ready with both mounted. */
export async function installAgentWithLogin(cluster: RealNodeClusterHandle, secret: string, registry: PrivateRegistry): Promise<void> {
  const { kubeconfig } = cluster.state;
  const installed = await migbenchAsync(
    ['agent', 'install', '--registry-secret', `${NAMESPACE}/${secret}`, '--registry-ca', registry.caFile, '--kubeconfig', kubeconfig],
    180_000,
  );
  expect(installed.code, installed.stderr).toBe(0);
  expect(installed.stdout).toContain(`registry logins from Secret ${NAMESPACE}/${secret}`);
  const status = await migbenchAsync(['agent', 'status', '--kubeconfig', kubeconfig], 60_000);
  expect(status.stdout).toMatch(/ready on 2\/2 nodes, registry logins and CA mounted/);
}

/**
 * The run whose nodes may not pull `image` (imagePullSecrets `pullSecrets`): it stops at once with
 * exit 2 naming the image, past TLS (the nodes trust the CA) at the registry's refusal, before any
 * trial and with nothing left. Returns its stderr. Run it while no node holds the image: with it
 * present a pod pulling IfNotPresent asks no registry.
 */
export async function runRefusedPull(
  cluster: RealNodeClusterHandle,
  admin: AdminClients,
  registry: PrivateRegistry,
  image: string,
  pullSecrets: readonly string[],
  label: string,
): Promise<string> {
  const out = join(cluster.base, label);
  const started = performance.now();
  const run = await migbenchAsync(
    ['run', privateScenario(join(cluster.base, `${label}.yaml`), registry, image, pullSecrets), '--warmup', '0', '--out', out],
    100_000,
  );
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`${registry.auth} registry: the run ${label} ended in ${seconds.toFixed(1)} s\n`);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(new RegExp(`node worker-[ab] cannot pull ${escape(image)}: (ErrImagePull|ImagePullBackOff)`));
  expect(run.stderr).toMatch(/unauthorized|401|authoriz/i);
  expect(run.stderr).not.toMatch(/x509|certificate signed by unknown authority/);
  expect(seconds, 'failed at once, not after the ready timeout').toBeLessThan(30);
  expect(csv(join(out, 'trials.csv'))).toEqual([]);
  expect(await migbenchObjectsIn(admin, NAMESPACE)).toEqual([]);
  return run.stderr;
}

/**
 * Redis from `image` in `registry`, its pods pulling with `pullSecret`, moved by kubelet-checkpoint
 * with `delivery: registry`: the run passes with no acknowledged write lost; each node's kubelet
 * pulled Redis from the registry and both pods report its digest; the checkpoint image was pushed
 * there by the source's agent, pulled by the target's kubelet, and its tag deleted after the trial.
 * Returns the checkpoint image's repository in the registry.
 */
export async function runCheckpointThroughRegistry(
  cluster: RealNodeClusterHandle,
  admin: AdminClients,
  registry: PrivateRegistry,
  image: string,
  pullSecret: string,
  label: string,
): Promise<string> {
  const nodes = cluster.state.nodes.map((n) => n.name);
  const out = join(cluster.base, label);
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
    ['run', privateScenario(join(cluster.base, `${label}.yaml`), registry, image, [pullSecret]), '--warmup', '0', '--out', out, '--quiet'],
    220_000,
  );
  watching = false;
  await watch;
  process.stderr.write(`${registry.auth} registry: the run ${label} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const trials = csv(join(out, 'trials.csv'));
  expect(run.code, `${trials.map((t) => `${t.failed_phase}: ${t.error}`).join('\n')}\n${run.stderr.slice(-6000)}`).toBe(0);
  expect(trials.map((t) => `${t.workload} ${t.strategy} ${t.status}`)).toEqual(['redis kubelet-checkpoint+registry ok']);
  const t = trials[0]!;
  expect(t.redis_acked_writes_lost, 'acknowledged writes lost').toBe('0');
  expect(Number(t.image_push_ms), 'pushed by the agent').toBeGreaterThan(0);
  expect(Number(t.image_pull_ms), 'pulled by the kubelet').toBeGreaterThan(0);
  process.stderr.write(
    `${registry.auth} registry phases: ${['checkpoint_api_ms', 'image_push_ms', 'image_pull_ms', 'restore_ms', 'downtime_ms'].map((p) => `${p}=${t[p]}`).join(' ')}\n`,
  );

  // The kubelet of each node pulled Redis' image from the private registry (the pull pods, with the Secret).
  const host = registry.host;
  const pulls = (await admin.core.listNamespacedEvent({ namespace: NAMESPACE })).items
    .filter((e) => e.reason === 'Pulled')
    .map((e) => `${e.source?.host ?? e.reportingInstance} ${e.message ?? ''}`);
  for (const node of nodes)
    expect(
      pulls.some((m) => m.startsWith(`${node} Successfully pulled image "${image}"`)),
      `${node}:\n${pulls.join('\n')}`,
    ).toBe(true);
  // The trial's pod ran it on the source, the kubelet reporting the private registry's digest; the
  // restored pod on the target reports the same image (containerd names the image a checkpoint was taken of).
  const ran = `${host}/migbench/redis${image.slice(image.indexOf('@'))}`;
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
  expect(await registry.catalog()).toContain(repository);
  const tags = await registry.get(`/v2/${repository}/tags/list`);
  expect([200, 404], `tags/list: ${tags.status} ${tags.body}`).toContain(tags.status);
  expect(tags.status === 404 ? [] : ((JSON.parse(tags.body) as { tags: string[] | null }).tags ?? []), 'tags left').toEqual([]);
  expect(await migbenchObjectsIn(admin, NAMESPACE)).toEqual([]);
  return repository;
}

/**
 * Takes off what a private-registry test made outside the lab's own state: its `secrets`, the nodes'
 * hosts.toml for the registry, the registry (and its token server) with its files. Idempotent, so a
 * file's last test and its afterAll (after a failure) share it.
 */
export async function removePrivateRegistry(cluster: RealNodeClusterHandle, registry: PrivateRegistry | undefined, secrets: readonly string[]): Promise<void> {
  // The registry is made first: without it nothing else was (nor, maybe, the cluster).
  if (registry) {
    await kubectl(cluster, ['-n', NAMESPACE, 'delete', 'secret', ...secrets, '--ignore-not-found']).catch(() => undefined);
    await untrustRegistry(
      cluster.state.nodes.map((n) => n.name),
      registry.host,
    );
    await registry.stop();
  }
}

/** After removePrivateRegistry: the registry's process `pid` is gone, its files and storage, the nodes' hosts.toml for it, the `secrets`. */
export async function expectPrivateRegistryRemoved(
  cluster: RealNodeClusterHandle,
  admin: AdminClients,
  registry: PrivateRegistry,
  pid: number,
  secrets: readonly string[],
): Promise<void> {
  expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), 'the registry process is gone').toBe(false);
  expect(existsSync(registry.dir)).toBe(false);
  expect(existsSync(registry.storage)).toBe(false);
  for (const node of cluster.state.nodes) expect(existsSync(join(nodeRegistryConfigPath(node.name), registry.host)), node.name).toBe(false);
  const left = (await admin.core.listNamespacedSecret({ namespace: NAMESPACE })).items.map((s) => s.metadata?.name ?? '');
  expect(left.filter((name) => secrets.includes(name))).toEqual([]);
}
