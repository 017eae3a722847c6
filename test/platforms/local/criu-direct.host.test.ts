// runtime: criu (src/platforms/local/criu-direct.ts): CRIU's command line, not runc, dumps and
// restores a running Redis. Every key comes back (also one only in memory), no write Redis
// acknowledged while the move ran is lost, and removing the restored pod — which runc does not know —
// ends its processes and removes its cgroups (the platform's afterAll check: nothing left on the host).
import { expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { existsSync, readFileSync } from 'node:fs';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import type { LocalPod } from '../../../src/platforms/local/pods.ts';
import { podCgroups } from '../../../src/platforms/local/pod-cgroups.ts';
import { processAlive } from '../../../src/system/processes.ts';
import { CriuStrategy } from '../../../src/strategies/criu/local.ts';
import { useTestPlatform } from '../../helpers/platform.ts';
import { recordingEvents } from '../../helpers/host.ts';
import { deployRedis, withRedis } from '../../helpers/redis-pod.ts';

let platform: LocalPlatform;
useTestPlatform((p) => (platform = p));

for (const options of [
  { freezer: 'criu', targetPod: 'after-dump' },
  { freezer: 'action-script', targetPod: 'before-dump' },
] as const) {
  it(`moves Redis through CRIU itself (freezer: ${options.freezer}, targetPod: ${options.targetPod}): all data, no acked write lost, nothing left`, {
    timeout: 120_000,
  }, async () => {
    const { workload, pod, service } = await deployRedis(platform, `direct-${options.freezer}`, 20_000);
    await withRedis(service.address.host, service.address.port, async (c) => {
      await c.config('SET', 'appendonly', 'no');
      await c.set('memory-only', 'yes');
    });
    // A writer through the service for the whole move: a write counts once Redis answered OK.
    const acked: string[] = [];
    let writing = true;
    // A 1 s command timeout: a write sent to the dumped source never gets an answer (its sockets are
    // gone with it), and is retried on a new connection rather than awaited for withRedis' 30 s.
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const c = new Redis({
          host: service.address.host,
          port: service.address.port,
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          connectTimeout: 1000,
          commandTimeout: 1000,
          retryStrategy: () => null,
        });
        c.on('error', () => undefined);
        try {
          await c.connect();
          while (writing) {
            if ((await c.set(`w:${i}`, String(i))) === 'OK') acked.push(`w:${i}`);
            i++;
          }
        } catch {
          await new Promise((r) => setTimeout(r, 5));
        } finally {
          c.disconnect();
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const events = recordingEvents();
    const outcome = await new CriuStrategy({
      name: 'criu',
      ip: 'new',
      freezer: options.freezer,
      targetPod: options.targetPod,
      pagePipes: 'sysctl',
      runtime: 'criu',
    }).migrate({
      platform,
      workload,
      pod,
      service,
      targetNode: 'node-b',
      events,
      readyTimeoutMs: 30_000,
      signal: new AbortController().signal,
    });
    await new Promise((r) => setTimeout(r, 300));
    writing = false;
    await writer;
    const restored = outcome.pod as LocalPod;
    expect(restored.node).toBe('node-b');
    expect(restored.restoredByCriu).toBe(true);
    // runc did not restore it: it knows only containers it started.
    expect(events.events.some((e) => e.event === 'restore_done')).toBe(true);
    expect(Number(readFileSync(restored.files.pidFile, 'utf8'))).toBe(restored.pid);
    expect(outcome.criu?.frozenUs).toBeGreaterThan(0);
    expect(outcome.criu?.restoreUs).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(10);
    await withRedis(service.address.host, service.address.port, async (c) => {
      expect(await c.get('memory-only')).toBe('yes');
      expect(await c.get('key:19999')).toBe('v'.repeat(32));
      const values = acked.length > 0 ? await c.mget(...acked) : [];
      const lost = acked.filter((_, i) => values[i] === null);
      expect(lost, 'acknowledged writes lost').toEqual([]);
    });
    const cgroups = podCgroups(restored.containerId);
    expect(cgroups.length).toBeGreaterThan(0);
    // The pod's processes are in its own cgroups on the target's cpuset.
    const cpusetDir = cgroups.find((d) => d.includes('/cpuset/'));
    if (cpusetDir) expect(readFileSync(`${cpusetDir}/cgroup.procs`, 'utf8')).toContain(String(restored.pid));
    await platform.removePod(outcome.pod);
    expect(processAlive(restored.pid)).toBe(false);
    expect(cgroups.filter((d) => existsSync(d))).toEqual([]);
    await platform.removeService(service);
    for (const v of workload.volumes()) await platform.removeVolume(v);
  });
}
