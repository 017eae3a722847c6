// The redeploy strategy deletes the pod and starts a fresh one on the target node: the data come
// back from the AOF on the shared volume; what was only in memory is gone.
import { expect, it } from 'vitest';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { RedeployStrategy } from '../../../src/strategies/redeploy/local.ts';
import { useTestPlatform } from '../../helpers/platform.ts';
import { recordingEvents } from '../../helpers/host.ts';
import { deployRedis, withRedis } from '../../helpers/redis-pod.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

it('moves Redis by redeploying it; the new pod reloads the AOF from the shared volume', async () => {
  const { workload, pod, service } = await deployRedis(platform, 'redeploy-test', 20_000);
  await withRedis(service.address.host, service.address.port, async (c) => {
    await c.set('persisted', 'yes');
    await c.config('SET', 'appendonly', 'no'); // rewrites nothing; later writes reach no file
    await c.set('memory-only', 'yes');
  });
  const events = recordingEvents();
  const outcome = await new RedeployStrategy({ name: 'redeploy', gracePeriodSeconds: 30 }).migrate({
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
    expect(await c.get('persisted')).toBe('yes');
    expect(await c.get('key:19999')).toBe('v'.repeat(32));
    expect(await c.get('memory-only')).toBeNull();
  });
  const order = events.events.map((e) => `${e.event}${e.event === 'service_endpoint' ? `:${e.detail?.includes('none') ? 'none' : 'pod'}` : ''}`);
  expect(order[0]).toBe('service_endpoint:none');
  expect(order).toContain('source_terminated');
  expect(order.at(-1)).toBe('service_endpoint:pod');
  await platform.removePod(outcome.pod);
  await platform.removeService(service);
});
