// The criu strategy moves a running Redis to the other node with CRIU: same memory (every key,
// including one never persisted to the AOF), new pod on the target node, CRIU's statistics read.
import { expect, it } from 'vitest';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { CriuStrategy } from '../../../src/strategies/criu/local.ts';
import { useTestPlatform } from '../../helpers/platform.ts';
import { recordingEvents } from '../../helpers/host.ts';
import { deployRedis, withRedis } from '../../helpers/redis-pod.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

// criu's default switches the service while CRIU restores (serviceSwitch: during-restore); after-ready
// is the podmigration-operator's order.
it.each([
  ['the service switched while CRIU restores (the default)', undefined],
  ['the service switched after the restored pod answers', 'after-ready'],
] as const)('moves Redis with its data intact and reports CRIU statistics: %s', async (_, serviceSwitch) => {
  const { workload, pod, service } = await deployRedis(platform, `criu-test-${serviceSwitch ?? 'default'}`, 20_000);
  // CONFIG SET appendonly no would be persisted nowhere: a key written with AOF off exists only in memory,
  // so finding it after the move proves the memory moved, not the volume.
  await withRedis(service.address.host, service.address.port, async (c) => {
    await c.config('SET', 'appendonly', 'no');
    await c.set('memory-only', 'yes');
  });
  const events = recordingEvents();
  const strategy = serviceSwitch
    ? new CriuStrategy({ name: 'criu', ip: 'new', freezer: 'action-script', pagePipes: 'sysctl', serviceSwitch })
    : new CriuStrategy();
  const outcome = await strategy.migrate({
    platform,
    workload,
    pod,
    service,
    targetNode: 'node-b',
    events,
    readyTimeoutMs: 30_000,
    signal: new AbortController().signal,
  });

  expect(outcome.pod.node).toBe('node-b');
  expect(outcome.pod.ip).not.toBe(pod.ip);
  await withRedis(service.address.host, service.address.port, async (c) => {
    expect(await c.dbsize()).toBe(20_001);
    expect(await c.get('memory-only')).toBe('yes');
    expect(await c.get('key:19999')).toBe('v'.repeat(32));
  });
  expect(outcome.checkpointBytes).toBeGreaterThan(20_000 * 32);
  expect(outcome.criu?.frozenUs).toBeGreaterThan(0);
  expect(outcome.criu?.freezingUs).toBeGreaterThan(0);
  expect(outcome.criu?.memdumpUs).toBeGreaterThan(0);
  expect(outcome.criu?.memwriteUs).toBeGreaterThan(0);
  expect(outcome.criu?.pagesWritten).toBeGreaterThan(0);
  expect(outcome.criu?.restoreUs).toBeGreaterThan(0);
  const order = events.events.map((e) => e.event);
  expect(order.indexOf('checkpoint_done')).toBeLessThan(order.indexOf('restore_start'));
  if (serviceSwitch === 'after-ready') {
    expect(order.indexOf('ready')).toBeLessThan(order.indexOf('service_endpoint'));
  } else {
    // Switched as the restore starts, before it ends; the harness's readiness check comes after.
    expect(order.indexOf('restore_start')).toBeLessThan(order.indexOf('service_endpoint'));
    expect(order.indexOf('service_endpoint')).toBeLessThan(order.indexOf('restore_done'));
    expect(order.indexOf('restore_done')).toBeLessThan(order.indexOf('ready'));
  }
  expect(order.at(-1)).toBe('source_removed');
  await platform.removePod(outcome.pod);
  await platform.removeService(service);
});
