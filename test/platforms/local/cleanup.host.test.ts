// After a crash (a platform never closed), `cleanup` finds everything by name and removes it; run
// again on the clean host, it removes nothing.
import { expect, inject, it } from 'vitest';
import { cleanupLocalHost } from '../../../src/platforms/local/cleanup.ts';
import { createTestPlatform } from '../../helpers/platform.ts';
import { migbenchObjects, NOTHING, silentEvents } from '../../helpers/host.ts';
import { RedisWorkload } from '../../../src/workloads/redis.ts';
import { processAlive } from '../../../src/system/processes.ts';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { LOCK_FILE, RUN_DIR } from '../../../src/platforms/local/names.ts';
import { migbench } from '../../helpers/cli.ts';

it('removes containers, namespaces, veths, bridge, rules and cgroups left by a crashed run, idempotently', async () => {
  const tools = inject('tools');
  const platform = await createTestPlatform();
  const workload = new RedisWorkload({ type: 'redis', name: 'leak', keys: 0, valueBytes: 8, appendfsync: 'everysec' });
  await platform.createVolume('leak-data');
  const pod = await platform.startPod(workload.podSpec(), 'node-a', silentEvents);
  const pid = Number(readFileSync(`/run/migbench/pods/${pod.name}/pid`, 'utf8'));
  const service = await platform.createService('leak', 6379);
  await platform.setServiceEndpoint(service, pod, silentEvents);
  // The "crash": the platform object is dropped without close().
  const before = migbenchObjects();
  expect(before.containers).toHaveLength(1);
  expect(before.netns).toHaveLength(1);
  expect(before.links.length).toBeGreaterThanOrEqual(2); // bridge + veth
  expect(before.iptables.length).toBeGreaterThan(0);

  const removed = await cleanupLocalHost({ ...tools, checkpointDirs: [] });
  expect(removed.some((r) => r.startsWith('container '))).toBe(true);
  expect(migbenchObjects()).toEqual(NOTHING);
  expect(processAlive(pid)).toBe(false);
  expect(await cleanupLocalHost({ ...tools, checkpointDirs: [] })).toEqual([]);
});

it('kills and removes a pod CRIU restored itself (runtime: criu), which runc does not know, after a crash', { timeout: 60_000 }, async () => {
  const tools = inject('tools');
  const platform = await createTestPlatform();
  const workload = new RedisWorkload({ type: 'redis', name: 'leak-direct', keys: 0, valueBytes: 8, appendfsync: 'everysec' });
  await platform.createVolume('leak-direct-data');
  const pod = await platform.startPod(workload.podSpec(), 'node-a', silentEvents);
  await workload.waitReady({ host: pod.ip, port: workload.port }, 20_000);
  const checkpoint = await platform.checkpointPod(pod, silentEvents, { transfer: 'shared-store', targetNode: 'node-b', preserveIp: false, runtime: 'criu' });
  const { pod: restored } = await platform.restorePod(checkpoint, silentEvents);
  const pid = Number(readFileSync(`/run/migbench/pods/${restored.name}/pid`, 'utf8'));
  expect(processAlive(pid)).toBe(true);
  // The "crash": the platform object is dropped without close().
  const removed = await cleanupLocalHost({ ...tools, checkpointDirs: [] });
  expect(removed).toContain(`pod process ${pid}`);
  expect(processAlive(pid)).toBe(false);
  expect(migbenchObjects()).toEqual(NOTHING);
  expect(await cleanupLocalHost({ ...tools, checkpointDirs: [] })).toEqual([]);
});

it('refuses while another live process holds the run lock, and leaves that run alone', async () => {
  // Another run, as far as the lock can tell: a live process that is not us.
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  const tools = inject('tools');
  const hadLock = existsSync(LOCK_FILE);
  mkdirSync(RUN_DIR, { recursive: true });
  writeFileSync(LOCK_FILE, String(other.pid));
  try {
    await expect(cleanupLocalHost({ ...tools, checkpointDirs: [] })).rejects.toThrow(`a migbench run (pid ${other.pid}) is in progress`);
    expect(readFileSync(LOCK_FILE, 'utf8')).toBe(String(other.pid));
    const cli = migbench(['cleanup']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`a migbench run (pid ${other.pid}) is in progress`);
  } finally {
    other.kill('SIGKILL');
    if (!hadLock) rmSync(LOCK_FILE, { force: true });
  }
  // A lock left by a process that is gone does not block anything.
  writeFileSync(LOCK_FILE, String(other.pid));
  await new Promise((r) => setTimeout(r, 50));
  await expect(cleanupLocalHost({ ...tools, checkpointDirs: [] })).resolves.toBeDefined();
  expect(existsSync(LOCK_FILE)).toBe(false);
});
