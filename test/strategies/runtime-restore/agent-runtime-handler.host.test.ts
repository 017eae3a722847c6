// The runtime handler put on nodes the way a user's cluster gets it: the lab started WITHOUT it
// (its containerd under a respawn loop, as systemd runs a user's), then `migbench agent install
// --runtime-handler` through the agents (before it, runtime-restore is `unsupported`, naming it) — the plan said first, each node's drop-in and wrapper
// written, containerd restarted (a new process), the RuntimeClass created, every node listing the
// handler in status.runtimeHandlers — runtime-restore moves Redis on it, and `migbench agent
// uninstall` takes all of it off again (drop-ins, wrapper, containerd restarted without the
// handler, the RuntimeClass) — refusing (exit 2, nothing changed) while a pod of the class exists.
import { expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { NodeV1Api } from '@kubernetes/client-node';
import { LAB_AGENT_PATHS } from '../../../src/lab/nodes/agent-install.ts';
import { nodeProcesses } from '../../../src/lab/nodes/host-state.ts';
import { nodeLayout } from '../../../src/lab/nodes/layout.ts';
import { redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn } from '../../platforms/kubernetes/cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-agent-runtime-handler');

const dropIns = () => cluster.state.nodes.map((n, i) => join(nodeLayout(n.name, i).runDir, 'containerd.d', 'migbench-runtime-handler.toml'));
const wrapper = join(LAB_AGENT_PATHS.stateDir, 'bin', 'migbench-runc');
const containerdPids = () =>
  nodeProcesses()
    .filter((p) => p.name === 'containerd')
    .map((p) => p.pid)
    .sort();
const handlersListed = async () =>
  (await adminClients(cluster.state.kubeconfig).core.listNode()).items
    .filter((n) => cluster.state.nodes.some((w) => w.name === n.metadata?.name))
    .map((n) => `${n.metadata?.name}: ${(n.status?.runtimeHandlers ?? []).some((h) => h.name === 'migbench')}`)
    .sort();
const runtimeClass = async () => {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.state.kubeconfig);
  return kc
    .makeApiClient(NodeV1Api)
    .readRuntimeClass({ name: 'migbench' })
    .then((rc) => rc.handler)
    .catch(() => 'none');
};

it('agent install --runtime-handler puts the handler on the lab nodes through the agents, runtime-restore moves Redis on it, uninstall takes it off', {
  timeout: 900_000,
}, async () => {
  const t0 = performance.now();
  const kubeconfig = ['--kubeconfig', cluster.state.kubeconfig];
  const workers = cluster.state.nodes.map((n) => n.name).sort();
  expect(dropIns().filter(existsSync)).toEqual([]);
  expect(await handlersListed()).toEqual(workers.map((w) => `${w}: false`));
  // Before: a run of runtime-restore alone could measure nothing — refused (exit 2) before anything
  // is created, naming the install (with another strategy beside it, its trials would be `unsupported`).
  const refusedOut = join(cluster.base, 'refused');
  const refused = await migbenchAsync(
    ['run', redisNodesScenario(join(cluster.base, 'refused.yaml'), '  - runtime-restore\nrepetitions: 1'), '--warmup', '0', '--out', refusedOut, '--quiet'],
    300_000,
  );
  expect(refused.code, refused.stderr).toBe(2);
  expect(refused.stderr.trim()).toMatch(
    /^migbench: strategies: none of them can run on worker-a and worker-b, so a run would measure nothing: runtime-restore: node worker-a has no runtime handler migbench \(its status\.runtimeHandlers: runc\): install it with `migbench agent install --runtime-handler`; nothing was created$/,
  );
  expect(existsSync(refusedOut), 'no results directory').toBe(false);
  const before = containerdPids();
  expect(before.length).toBe(workers.length);

  const installed = await migbenchAsync(['agent', 'install', '--runtime-handler', ...kubeconfig], 300_000);
  expect(installed.code, installed.stderr).toBe(0);
  // Said before it is done: which file on which node, and the restart.
  for (const [i, w] of workers.entries()) expect(installed.stderr).toContain(`${w}: writes ${dropIns()[i]}`);
  expect(installed.stderr).toMatch(/restarts containerd \(by the lab's respawn loop/);
  expect(installed.stdout).toMatch(/runtime handler migbench on worker-a, worker-b/);
  for (const file of dropIns()) expect(readFileSync(file, 'utf8')).toContain(`BinaryName = ${JSON.stringify(wrapper)}`);
  expect(existsSync(wrapper)).toBe(true);
  const restarted = containerdPids();
  expect(restarted.length).toBe(workers.length);
  expect(
    restarted.filter((p) => before.includes(p)),
    'every containerd is a new process',
  ).toEqual([]);
  expect(await handlersListed()).toEqual(workers.map((w) => `${w}: true`));
  expect(await runtimeClass()).toBe('migbench');
  const status = await migbenchAsync(['agent', 'status', ...kubeconfig]);
  for (const w of workers) expect(status.stdout).toMatch(new RegExp(`${w}: runtime handler migbench installed`));
  // Again: nothing to change, no restart.
  const again = await migbenchAsync(['agent', 'install', '--runtime-handler', ...kubeconfig], 300_000);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toContain('already installed');
  expect(containerdPids()).toEqual(restarted);
  const installSeconds = (performance.now() - t0) / 1000;

  const out = join(cluster.base, 'moved');
  const run = await migbenchAsync(
    ['run', redisNodesScenario(join(cluster.base, 'moved.yaml'), '  - runtime-restore\nrepetitions: 1'), '--warmup', '0', '--out', out, '--quiet'],
    400_000,
  );
  const trials = parse(readFileSync(join(out, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  const diagnose = `\n${trials.map((t) => `trial ${t.trial} ${t.strategy}: ${t.status} ${t.failed_phase}: ${t.error}`).join('\n')}\n--- stderr ---\n${run.stderr}`;
  expect(run.code, diagnose).toBe(0);
  expect(
    trials.map((t) => `${t.strategy}/${t.status}`),
    diagnose,
  ).toEqual(['runtime-restore/ok']);
  expect(trials[0]?.redis_acked_writes_lost).toBe('0');
  expect(await migbenchObjectsIn(adminClients(cluster.state.kubeconfig), 'migbench')).toEqual([]);

  // A pod of the class still there (its shim would run the wrapper): uninstall refuses, exit 2, nothing changed.
  const admin = adminClients(cluster.state.kubeconfig);
  await admin.core.createNamespacedPod({
    namespace: 'migbench',
    body: {
      metadata: { name: 'rh-holder' },
      spec: { runtimeClassName: 'migbench', nodeSelector: { 'no-such-node': 'x' }, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
    },
  });
  const refusedUninstall = await migbenchAsync(['agent', 'uninstall', ...kubeconfig], 120_000);
  expect(refusedUninstall.code).toBe(2);
  expect(refusedUninstall.stderr).toMatch(/pods of RuntimeClass migbench still exist \(migbench\/rh-holder\): delete them first/);
  expect(dropIns().filter(existsSync).length).toBe(workers.length);
  expect(await runtimeClass()).toBe('migbench');
  await admin.core.deleteNamespacedPod({ name: 'rh-holder', namespace: 'migbench', gracePeriodSeconds: 0 });
  await eventually('the holder pod gone', 30_000, async () =>
    admin.core.readNamespacedPod({ name: 'rh-holder', namespace: 'migbench' }).then(
      () => false,
      () => true,
    ),
  );

  const t1 = performance.now();
  const removed = await migbenchAsync(['agent', 'uninstall', ...kubeconfig], 300_000);
  expect(removed.code, removed.stderr).toBe(0);
  expect(removed.stderr).toMatch(/removed worker-a: containerd restarted/);
  expect(dropIns().filter(existsSync)).toEqual([]);
  expect(existsSync(wrapper)).toBe(false);
  expect(await handlersListed()).toEqual(workers.map((w) => `${w}: false`));
  expect(await runtimeClass()).toBe('none');
  expect(
    containerdPids().filter((p) => restarted.includes(p)),
    'containerd restarted without the handler',
  ).toEqual([]);
  process.stderr.write(`agent runtime handler: install (twice) ${installSeconds.toFixed(1)} s, uninstall ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
});
