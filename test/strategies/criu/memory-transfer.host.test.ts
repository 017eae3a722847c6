// criu-lazy (post-copy) and criu-pageserver move a running Redis with its memory intact: every
// key, including one that exists only in memory. Post-copy resumes the target before the memory
// has arrived, so its migration ends only with the last page (memory_complete after ready); the
// page server sends the pages to the target node's own disk instead of the shared store.
import { expect, it } from 'vitest';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { CriuLazyStrategy } from '../../../src/strategies/criu-lazy/local.ts';
import { CriuPageserverStrategy } from '../../../src/strategies/criu-pageserver/local.ts';
import type { Strategy } from '../../../src/strategies/entry/strategy.ts';
import { useTestPlatform } from '../../helpers/platform.ts';
import { recordingEvents } from '../../helpers/host.ts';
import { deployRedis, withRedis } from '../../helpers/redis-pod.ts';

let platform: LocalPlatform;
/** What a full dump of the same pod wrote (the page server's), compared with the lazy dump below. */
let fullImagesBytes = Number.NaN;
useTestPlatform((p) => (platform = p));

async function move(strategy: Strategy) {
  const { workload, pod, service } = await deployRedis(platform, strategy.name, 20_000);
  await withRedis(service.address.host, service.address.port, async (c) => {
    await c.config('SET', 'appendonly', 'no');
    await c.set('memory-only', 'yes');
  });
  const events = recordingEvents();
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
  await withRedis(service.address.host, service.address.port, async (c) => {
    expect(await c.dbsize()).toBe(20_001);
    expect(await c.get('memory-only')).toBe('yes');
    expect(await c.get('key:19999')).toBe('v'.repeat(32));
  });
  await platform.removePod(outcome.pod);
  await platform.removeService(service);
  return { outcome, events: events.events };
}

it('criu-pageserver: pages go to the target node, the restore reads them there', { timeout: 60_000 }, async () => {
  const { outcome, events } = await move(
    new CriuPageserverStrategy({ name: 'criu-pageserver', ip: 'new', freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl' }),
  );
  expect(events.find((e) => e.event === 'checkpoint_start')?.detail).toContain('page-server');
  expect(outcome.checkpointBytes).toBeGreaterThan(20_000 * 32);
  expect(outcome.criu?.pagesWritten).toBeGreaterThan(0);
  fullImagesBytes = outcome.checkpointBytes!;
});

// One retry: in one CI run of many (a fresh machine, CRIU 4.2.1) a lazy dump of this pod wrote its
// private memory to the images as well (5.67 MB, the full dump's size; 1.17 MB in every run here
// before and since). Not reproduced, cause unknown; a lazy dump that never leaves the memory
// behind still fails both tries.
it('criu-lazy: the target serves before its memory has arrived, and all of it arrives', { timeout: 120_000, retry: 1 }, async () => {
  const { outcome, events } = await move(new CriuLazyStrategy({ name: 'criu-lazy', ip: 'new', freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl' }));
  const order = events.map((e) => e.event);
  expect(order.indexOf('ready')).toBeGreaterThan(-1);
  expect(order.indexOf('ready')).toBeLessThan(order.indexOf('memory_complete'));
  expect(order.indexOf('memory_complete')).toBeLessThan(order.indexOf('source_removed'));
  // The same pod dumped in full is several times what the lazy dump wrote before its restore began:
  // the private memory stayed behind on the source and was fetched afterwards.
  expect(
    outcome.checkpointBytes,
    `lazy dump wrote ${outcome.checkpointBytes} B before the restore, a full dump ${fullImagesBytes} B; dump: ${events.find((e) => e.event === 'checkpoint_start')?.detail}`,
  ).toBeLessThan(fullImagesBytes / 3);
});
