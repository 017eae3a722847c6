// The lab's registry (`migbench cluster start` runs the CNCF distribution registry on the lab
// network): `migbench images build --load lab` pushes the redis image built from Debian's packages,
// the registry serves it by digest, and a run naming it in `kubernetes.images` has the lab's nodes
// pull it (before the first trial) and run the real app from it — no host /usr mounted — with
// Redis' data intact across a redeploy. An image no node can pull fails the run at once (exit 2),
// naming the image, with nothing left in the namespace.
import { expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { LAB_REGISTRY } from '../../../src/lab/nodes/lab-registry.ts';
import { redisNodesScenario, useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, eventually, migbenchAsync, migbenchObjectsIn } from '../../platforms/kubernetes/cluster-kit.ts';

const cluster = useRealNodeCluster('migbench-lab-registry');

let redisImage = '';

it('`images build --load lab` pushes the redis image to the lab registry, which serves it by digest', { timeout: 900_000 }, async () => {
  const load = await migbenchAsync(['images', 'build', '--workload', 'redis', '--load', 'lab'], 880_000);
  expect(load.code, load.stderr).toBe(0);
  const reference = /^\s+redis: (\S+@sha256:[0-9a-f]{64})/m.exec(load.stdout)?.[1];
  expect(reference, load.stdout).toMatch(new RegExp(`^${LAB_REGISTRY.replace(/\./g, '\\.')}/migbench/redis@sha256:`));
  redisImage = reference!;
  const digest = redisImage.slice(redisImage.indexOf('@') + 1);
  const manifest = await fetch(`http://${LAB_REGISTRY}/v2/migbench/redis/manifests/${digest}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  expect(manifest.status).toBe(200);
  expect(manifest.headers.get('docker-content-digest')).toBe(digest);
  const body = (await manifest.json()) as { config: { digest: string }; layers: unknown[] };
  expect(body.layers).toHaveLength(2);
  const config = (await (await fetch(`http://${LAB_REGISTRY}/v2/migbench/redis/blobs/${body.config.digest}`)).json()) as {
    config: { Entrypoint: string[]; Labels: Record<string, string> };
  };
  expect(config.config.Entrypoint).toEqual(['redis-server']);
  expect(config.config.Labels['io.migbench.debian.package.redis-server']).toMatch(/^5:7\.0\./);
});

it('a run naming the pushed image pulls it on both nodes first and runs Redis from it across a redeploy', { timeout: 700_000 }, async () => {
  expect(redisImage, 'the image of the test before').not.toBe('');
  const { state, base } = cluster;
  const file = redisNodesScenario(join(base, 'registry-image.yaml'), '  - name: redeploy\n    gracePeriodSeconds: 5\nrepetitions: 1');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^kubernetes:\n/m, `kubernetes:\n  images:\n    redis: ${redisImage}\n`));
  const out = join(base, 'registry-run');
  const run = await migbenchAsync(['run', file, '--warmup', '0', '--out', out, '--quiet'], 580_000);
  expect(run.stderr).toMatch(/images present on worker-a \([\d.]+ s\), worker-b \([\d.]+ s\)/);
  const trials = parse(readFileSync(join(out, 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  expect(run.code, `${run.stderr}\n${JSON.stringify(trials)}`).toBe(0);
  expect(trials.map((t) => t.status)).toEqual(['ok']);
  expect(trials[0]?.redis_acked_writes_lost).toBe('0');
  // Both nodes hold the image by its digest: pulled from the registry, not one of the lab's imported stand-ins.
  const admin = adminClients(state.kubeconfig);
  // (The kubelet refreshes the node's image list every 30 s or so.)
  for (const node of ['worker-a', 'worker-b']) {
    await eventually(`${node} to list ${redisImage}`, 90_000, async () =>
      ((await admin.core.readNode({ name: node })).status?.images ?? []).some((i) => i.names?.includes(redisImage)),
    );
  }
});

it('an image no node can pull fails the run at once, naming it, and leaves nothing in the namespace', { timeout: 300_000 }, async () => {
  const { state, base } = cluster;
  const absent = `${LAB_REGISTRY}/migbench/absent@sha256:${'0'.repeat(64)}`;
  const file = redisNodesScenario(join(base, 'absent-image.yaml'), '  - redeploy\nrepetitions: 1');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^kubernetes:\n/m, `kubernetes:\n  images:\n    redis: ${absent}\n`));
  const started = performance.now();
  const run = await migbenchAsync(['run', file, '--warmup', '0', '--out', join(base, 'absent-run'), '--quiet'], 280_000);
  const seconds = (performance.now() - started) / 1000;
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toContain(`cannot pull ${absent}`);
  expect(run.stderr).toMatch(/ErrImagePull|ImagePullBackOff/);
  // At once: well inside the scenario's ready timeout (120 s).
  expect(seconds).toBeLessThan(60);
  const admin = adminClients(state.kubeconfig);
  expect(await migbenchObjectsIn(admin, 'migbench')).toEqual([]);
  // The pull pods too (they carry no part-of label: no workload's).
  expect((await admin.core.listNamespacedPod({ namespace: 'migbench' })).items.map((p) => p.metadata?.name)).toEqual([]);
});
