// The drain strategy with Kubernetes semantics: cordon, evict (leave the service, SIGTERM, SIGKILL
// after the grace period), the controller's replacement on the other node — at once for a
// Deployment, only after the old pod is gone for a StatefulSet — and uncordon on every exit path.
import { expect, it } from 'vitest';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { DrainStrategy } from '../../../src/strategies/drain/local.ts';
import { useTestPlatform } from '../../helpers/platform.ts';
import { recordingEvents, silentEvents } from '../../helpers/host.ts';
import { deployRedis, withRedis } from '../../helpers/redis-pod.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

const signal = new AbortController().signal;

/** Stops the source's process so it cannot act on SIGTERM: it must be SIGKILLed after the grace period. */
function freeze(pod: object): void {
  process.kill((pod as { pid: number }).pid, 'SIGSTOP');
}

for (const controller of ['deployment', 'statefulset'] as const) {
  it(`drains Redis to node-b (${controller}); data from the AOF survive, the node is uncordoned`, async () => {
    const { workload, pod, service } = await deployRedis(platform, `drain-${controller.slice(0, 6)}`, 5_000);
    await withRedis(service.address.host, service.address.port, (c) => c.set('persisted', 'yes'));
    await new Promise((r) => setTimeout(r, 1_200)); // appendfsync everysec: let the write reach the disk
    freeze(pod);
    const events = recordingEvents();
    const outcome = await new DrainStrategy({ name: 'drain', gracePeriodSeconds: 1, controller }).migrate({
      platform,
      workload,
      pod,
      service,
      targetNode: 'node-b',
      events,
      readyTimeoutMs: 30_000,
      signal,
    });
    expect(outcome.pod.node).toBe('node-b');
    await withRedis(service.address.host, service.address.port, async (c) => {
      expect(await c.get('persisted')).toBe('yes');
      expect(await c.get('key:4999')).toBe('v'.repeat(32));
    });
    const order = events.events.map((e) => e.event);
    const at = (event: string) => order.indexOf(event);
    expect(order[0]).toBe('node_cordoned');
    expect(at('service_endpoint')).toBeLessThan(at('evicted'));
    expect(at('source_killed')).toBeGreaterThan(-1);
    if (controller === 'deployment')
      expect(at('ready')).toBeLessThan(at('source_killed')); // the replacement did not wait
    else expect(at('source_killed')).toBeLessThan(at('replacement_created')); // one pod per identity
    expect(order.at(-1)).toBe('node_uncordoned');
    expect(platform.isSchedulable('node-a')).toBe(true);
    await platform.removePod(outcome.pod);
    await platform.removeService(service);
    for (const v of workload.volumes()) await platform.removeVolume(v);
  });
}

it('a cordoned node takes no new pod, and a failed drain still uncordons it', async () => {
  const { workload, pod, service } = await deployRedis(platform, 'drain-fail', 100);
  platform.cordon('node-b', silentEvents);
  await expect(platform.startPod(workload.podSpec(), 'node-b', silentEvents)).rejects.toThrow(/cordoned/);
  platform.uncordon('node-b', silentEvents);
  // Draining onto the node being drained: the replacement cannot be scheduled, the drain fails.
  const events = recordingEvents();
  await expect(
    new DrainStrategy({ name: 'drain', gracePeriodSeconds: 1, controller: 'deployment' }).migrate({
      platform,
      workload,
      pod,
      service,
      targetNode: 'node-a',
      events,
      readyTimeoutMs: 5_000,
      signal,
    }),
  ).rejects.toThrow(/cordoned/);
  expect(platform.isSchedulable('node-a')).toBe(true);
  expect(events.events.at(-1)?.event).toBe('node_uncordoned');
  await platform.removePod(pod);
  await platform.removeService(service);
  for (const v of workload.volumes()) await platform.removeVolume(v);
});
