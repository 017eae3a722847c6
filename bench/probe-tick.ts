// What one Redis probe tick costs the harness, all of it: the real RedisProbe, on its own open-loop
// schedule, against a loopback redis-server for a few seconds; the CPU time this process spent (the
// tick, ioredis' encoding and parsing, the sample, the timers, GC) divided by the ticks fired. The CPU
// a tick costs is time the event loop cannot spend firing the next one: at a 1 ms interval, 100 µs
// per tick is 10 % of a core. tinybench cannot time this part: a tick's work is spread over the
// send, the reply and the timers around them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sleep } from '../src/clock.ts';
import { percentile } from '../src/metrics/percentile.ts';
import { probeOptions } from '../src/probes/probe.ts';
import { RedisProbe } from '../src/probes/redis-probe.ts';
import { startLoopbackRedis } from './loopback-redis.ts';

export interface ProbeTickFigures {
  intervalMs: number;
  ticks: number;
  failed: number;
  /** CPU time (user + system) of this process per tick, µs. */
  cpuPerTickUs: number;
  /** Share of wall time the event loop was busy while probing. */
  eventLoopUtilization: number;
  /** Send → reply (HSET + HGET, one round trip on loopback), ms. */
  roundTripP50Ms: number;
  roundTripP99Ms: number;
}

export async function measureProbeTick(intervalMs = 1, durationMs = 3_000): Promise<ProbeTickFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'migbench-bench-redis-'));
  const redis = await startLoopbackRedis(dir);
  try {
    const probe = new RedisProbe(redis.endpoint, probeOptions({ intervalMs, timeoutMs: 100 }));
    await probe.start();
    const cpuBefore = process.cpuUsage();
    const eluBefore = performance.eventLoopUtilization();
    await sleep(durationMs);
    const samples = await probe.stop();
    const cpu = process.cpuUsage(cpuBefore);
    const elu = performance.eventLoopUtilization(eluBefore);
    const roundTrips = samples.filter((s) => s.ok).map((s) => s.doneAt - s.sentAt);
    return {
      intervalMs,
      ticks: samples.length,
      failed: samples.filter((s) => !s.ok).length,
      cpuPerTickUs: (cpu.user + cpu.system) / samples.length,
      eventLoopUtilization: elu.utilization,
      roundTripP50Ms: percentile(roundTrips, 50) ?? Number.NaN,
      roundTripP99Ms: percentile(roundTrips, 99) ?? Number.NaN,
    };
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
