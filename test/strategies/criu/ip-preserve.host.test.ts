// `ip: preserve`: the restored pod keeps the source's IP and MAC and CRIU carries established TCP
// connections over, so a client holding one connection (the Redis probe, told not to give up on it)
// keeps it through the move: connections_broken = 0, every acknowledged write still there, and the
// samples after the move succeed on that same connection. Without it, the same client loses it.
import { expect, it } from 'vitest';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { probeMetrics } from '../../../src/metrics/workload-metrics.ts';
import { RedisProbe } from '../../../src/probes/redis-probe.ts';
import { probeOptions } from '../../../src/probes/probe.ts';
import { CriuStrategy } from '../../../src/strategies/criu/local.ts';
import { sleep } from '../../../src/clock.ts';
import { useTestPlatform } from '../../helpers/platform.ts';
import { recordingEvents } from '../../helpers/host.ts';
import { deployRedis, withRedis } from '../../helpers/redis-pod.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

async function moveWithProbe(ip: 'new' | 'preserve', reconnectAfterMs: number) {
  const { workload, pod, service } = await deployRedis(platform, `preserve-${ip}`, 5_000);
  const probe = new RedisProbe(service.address, probeOptions({ intervalMs: 5, reconnectAfterMs }));
  await probe.start();
  await sleep(300);
  const events = recordingEvents();
  const outcome = await new CriuStrategy({ name: 'criu', ip, freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl' }).migrate({
    platform,
    workload,
    pod,
    service,
    targetNode: 'node-b',
    events,
    readyTimeoutMs: 30_000,
    signal: new AbortController().signal,
  });
  const movedAt = performance.now();
  // Long enough for the client's TCP retransmission (its back-off reaches ~1.6 s) to meet the restored socket.
  await sleep(3_000);
  const samples = await probe.stop();
  const findings = await probe.verify();
  // connections_broken as trials.csv has it: computed from what the probe recorded.
  const { connections_broken: connectionsBroken } = probeMetrics(probe.records(), movedAt);
  await platform.removePod(outcome.pod);
  await platform.removeService(service);
  return { pod, outcome, samples, findings, connectionsBroken, movedAt, events: events.events };
}

it('keeps the client connection through a criu move (connections_broken = 0)', { timeout: 60_000 }, async () => {
  const { pod, outcome, samples, findings, connectionsBroken, movedAt, events } = await moveWithProbe('preserve', 30_000);
  expect(outcome.pod.node).toBe('node-b');
  expect(outcome.pod.ip).toBe(pod.ip);
  expect(connectionsBroken).toBe(0);
  expect(findings.redisAckedWritesLost).toBe(0);
  // No reset or refusal: the outage is a stall (timeouts), and the same connection answers afterwards.
  expect(samples.filter((s) => !s.ok && s.error !== 'timeout')).toEqual([]);
  expect(samples.filter((s) => s.sentAt > movedAt + 2_000 && s.ok).length).toBeGreaterThan(100);
  const order = events.map((e) => e.event);
  expect(order.indexOf('pod_detached')).toBeLessThan(order.indexOf('checkpoint_done'));
  expect(order.indexOf('restore_done')).toBeLessThan(order.indexOf('pod_attached'));
});

it('without ip: preserve the client loses its connection (connections_broken ≥ 1)', { timeout: 60_000 }, async () => {
  const { pod, outcome, connectionsBroken } = await moveWithProbe('new', 50);
  expect(outcome.pod.ip).not.toBe(pod.ip);
  expect(connectionsBroken).toBeGreaterThanOrEqual(1);
});

it('a failed dump gives the source its network back', { timeout: 60_000 }, async () => {
  const { pod, service } = await deployRedis(platform, 'preserve-fail', 100);
  // A target node that does not exist fails the request before anything is dumped.
  await expect(platform.checkpointPod(pod, recordingEvents(), { transfer: 'shared-store', targetNode: 'node-z', preserveIp: true })).rejects.toThrow(/node-z/);
  await withRedis(service.address.host, service.address.port, async (c) => expect(await c.ping()).toBe('PONG'));
  await platform.removePod(pod);
  await platform.removeService(service);
});
