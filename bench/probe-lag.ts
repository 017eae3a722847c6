// `node bench/probe-lag.ts [--probes 16] [--interval 5] [--seconds 5]`: does the harness stay out of
// the way when an evacuation probes many pods at once? N real RedisProbes, each on its own open-loop
// schedule at the scenario's interval, against one loopback redis-server (each probe its own
// connection and keys, as each pod's probe is), for a few seconds; prints the send lag (due → handed
// to the client) p50/p99/max over every sample, and this process's CPU use. Issue 22 asks p99 ≤ 2 ms
// with 16 probes. No root, nothing outside loopback; the host's other load shows in the figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { sleep } from '../src/clock.ts';
import { percentile } from '../src/metrics/percentile.ts';
import { probeOptions } from '../src/probes/probe.ts';
import { RedisProbe } from '../src/probes/redis-probe.ts';
import { startLoopbackRedis } from './loopback-redis.ts';

const { values: flags } = parseArgs({
  options: { probes: { type: 'string', default: '16' }, interval: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' } },
});
const probes = Number(flags.probes);
const intervalMs = Number(flags.interval);
const durationMs = Number(flags.seconds) * 1000;

const dir = mkdtempSync(join(tmpdir(), 'migbench-bench-lag-'));
const redis = await startLoopbackRedis(dir);
try {
  const running = Array.from({ length: probes }, () => new RedisProbe(redis.endpoint, probeOptions({ intervalMs })));
  for (const probe of running) await probe.start();
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  await sleep(durationMs);
  const samples = (await Promise.all(running.map((p) => p.stop()))).flat();
  const cpu = process.cpuUsage(cpuBefore);
  const elu = performance.eventLoopUtilization(eluBefore);
  const lags = samples.map((s) => s.sentAt - s.scheduledAt);
  const fmt = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(3)} ms`);
  const p99 = percentile(lags, 99);
  process.stdout.write(
    `${probes} redis probes every ${intervalMs} ms for ${durationMs / 1000} s: ${samples.length} samples (${samples.filter((s) => !s.ok).length} failed)\n` +
      `send lag p50 ${fmt(percentile(lags, 50))}, p99 ${fmt(p99)}, max ${fmt(Math.max(...lags))} (target: p99 ≤ 2 ms: ${p99 !== undefined && p99 <= 2 ? 'met' : 'NOT met'})\n` +
      `harness CPU ${(((cpu.user + cpu.system) / 1000 / durationMs) * 100).toFixed(1)} % of one core, event loop ${(elu.utilization * 100).toFixed(1)} % busy\n`,
  );
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
