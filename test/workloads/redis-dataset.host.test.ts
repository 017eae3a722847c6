// Redis `datasetMiB` is what a memory sweep varies, so it must load the size asked for, in bytes no
// compression shrinks (else a fresh pod would reload less than CRIU copies), leave the AOF compacted
// with no rewrite left to start during the measurement, and report the memory it took. Against a
// real redis-server with AOF, as the pods run it.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisWorkloadSchema } from '../../src/scenario/schema.ts';
import { RedisWorkload } from '../../src/workloads/redis.ts';
import { startLoopbackRedis, type LoopbackRedis } from '../../bench/loopback-redis.ts';

const dir = mkdtempSync(join(tmpdir(), 'migbench-redis-dataset-'));
let redis: LoopbackRedis | undefined;
let port = 0;

beforeAll(async () => {
  redis = await startLoopbackRedis(dir);
  port = redis.endpoint.port;
});

afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('loads datasetMiB of incompressible values, compacts the AOF and reports used_memory', async () => {
  const workload = new RedisWorkload(redisWorkloadSchema.parse({ type: 'redis', datasetMiB: 16, valueBytes: 1000 }));
  const { datasetBytes } = await workload.prepare({ host: '127.0.0.1', port });
  const client = new Redis({ port, lazyConnect: true });
  await client.connect();
  try {
    expect(await client.dbsize()).toBe(Math.floor((16 * 2 ** 20) / 1000));
    // No rewrite running or pending once prepare returns: none can fork during the measurement.
    const persistence = await client.info('persistence');
    expect(persistence).toMatch(/aof_rewrite_in_progress:0/);
    expect(persistence).toMatch(/aof_rewrite_scheduled:0/);
    expect(persistence).toMatch(/aof_last_bgrewrite_status:ok/);
    // The AOF is an RDB base holding all 16 MiB (repeated bytes would compress to a few KiB) and nothing appended since.
    const aofDir = join(dir, 'appendonlydir');
    const files = readdirSync(aofDir);
    const base = files.find((f) => f.endsWith('.base.rdb'))!;
    expect(statSync(join(aofDir, base)).size).toBeGreaterThan(16 * 2 ** 20);
    expect(statSync(join(aofDir, files.find((f) => f.endsWith('.incr.aof'))!)).size).toBe(0);
    // Values differ from key to key (not one slice repeated).
    expect(await client.getBuffer('key:1')).not.toEqual(await client.getBuffer('key:2'));
    // used_memory, measured: the values plus Redis' per-key overhead.
    const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
    expect(datasetBytes).toBeGreaterThan(16 * 2 ** 20);
    expect(Math.abs(datasetBytes! - used)).toBeLessThan(2 ** 20);
  } finally {
    client.disconnect();
  }
});
