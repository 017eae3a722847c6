// Redis with AOF persistence, its data directory on a volume in the shared store, so a pod started
// fresh elsewhere reloads the AOF (redeploy), while a restored pod carries its memory (criu).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { sleep } from '../clock.ts';
import type { Endpoint } from '../model/endpoint.ts';
import type { PodSpec } from '../model/pod-spec.ts';
import type { Probe, ProbeOptions } from '../probes/probe.ts';
import { RedisProbe } from '../probes/redis-probe.ts';
import { FreshConnectionProbe, REDIS_PING } from '../probes/fresh-connection-probe.ts';
import type { RedisWorkloadConfig } from '../scenario/schema.ts';
import type { PreparedData, Workload } from './workload.ts';

const REDIS_PORT = 6379;
/** Keys per MSET when loading the data set; batches are pipelined. */
const FILL_BATCH = 1_000;
const FILL_PIPELINE_DEPTH = 16;
/** A `datasetMiB` load sends MSETs of about this many bytes of values. */
const DATASET_BATCH_BYTES = 1 << 20;
/** The random bytes `datasetMiB` values are cut from (each value a different slice: nothing repeats within a value). */
const RANDOM_POOL_BYTES = 4 << 20;
/** How often the end of the AOF rewrite is polled. */
const REWRITE_POLL_MS = 50;

export class RedisWorkload implements Workload {
  readonly type = 'redis';
  readonly port = REDIS_PORT;
  readonly name: string;
  private readonly config: RedisWorkloadConfig;

  constructor(config: RedisWorkloadConfig) {
    this.config = config;
    this.name = config.name ?? config.type;
  }

  volumes(): string[] {
    return [`${this.name}-data`];
  }

  podSpec(): PodSpec {
    return {
      app: this.name,
      command: ['redis-server'],
      args: [
        '--bind',
        '0.0.0.0',
        '--port',
        String(REDIS_PORT),
        '--protected-mode',
        'no',
        '--appendonly',
        'yes',
        '--appendfsync',
        this.config.appendfsync,
        '--dir',
        '/data',
        // AOF only: no RDB snapshots, whose fork would disturb the measurement at random moments.
        '--save',
        '',
        '--daemonize',
        'no',
      ],
      port: REDIS_PORT,
      volumes: [{ volume: `${this.name}-data`, mountPath: '/data' }],
    };
  }

  async waitReady(endpoint: Endpoint, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let lastError = '';
    while (performance.now() < deadline) {
      signal?.throwIfAborted();
      // The readiness check is part of the measured downtime, so every attempt is cheap to fail:
      // no ioredis ready check (PING's LOADING answer is ours to handle, and ioredis waits up to a
      // second between its INFO checks while Redis loads), and a 100 ms connect timeout so a lost
      // SYN costs 100 ms rather than TCP's 1 s retransmission.
      const client = new Redis({
        host: endpoint.host,
        port: endpoint.port,
        lazyConnect: true,
        enableReadyCheck: false,
        protocol: 2,
        disableClientInfo: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        connectTimeout: 100,
        commandTimeout: 1_000,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        // PING answers during AOF loading with an error (LOADING), so it tells ready from merely listening.
        if ((await client.ping()) === 'PONG') return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      } finally {
        client.disconnect(false);
      }
      await sleep(2, signal);
    }
    throw new Error(`redis at ${endpoint.host}:${endpoint.port} not ready after ${timeoutMs} ms (last error: ${lastError || 'none'})`);
  }

  async prepare(endpoint: Endpoint, signal?: AbortSignal): Promise<PreparedData> {
    const client = new Redis({
      host: endpoint.host,
      port: endpoint.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 5_000,
      commandTimeout: 120_000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (this.config.datasetMiB !== undefined) await this.loadDataset(client, this.config.datasetMiB, signal);
      else await this.loadKeys(client, signal);
      return { datasetBytes: usedMemory(await client.info('memory')) };
    } finally {
      client.disconnect(false);
    }
  }

  /** `keys` × `valueBytes` of one repeated character, MSET in batches of FILL_BATCH keys. */
  private async loadKeys(client: Redis, signal?: AbortSignal): Promise<void> {
    const value = 'v'.repeat(this.config.valueBytes);
    await msetPipelined(client, this.config.keys, FILL_BATCH, () => value, signal);
    const keys = await client.dbsize();
    if (keys < this.config.keys) throw new Error(`redis holds ${keys} keys after loading ${this.config.keys}`);
  }

  /**
   * `datasetMiB` of values: random bytes, because the size is the point — an RDB (the AOF's base
   * after a rewrite) compresses repeated bytes to almost nothing, and a fresh pod would then reload
   * far less than CRIU copies. Client writes rather than DEBUG POPULATE: its values are zero-padded
   * (compressible), it is disabled by default in Redis 7 (enable-debug-command) and it bypasses the
   * AOF. Then the AOF is rewritten and the rewrite awaited: loading this much grows the AOF past
   * Redis' auto-rewrite threshold, and a rewrite (a fork writing the whole data set) must not run
   * during the measurement; afterwards the AOF is what Redis itself keeps, an RDB base.
   */
  private async loadDataset(client: Redis, datasetMiB: number, signal?: AbortSignal): Promise<void> {
    const { valueBytes } = this.config;
    const keyCount = Math.floor((datasetMiB * 2 ** 20) / valueBytes);
    const pool = randomBytes(Math.max(RANDOM_POOL_BYTES, 2 * valueBytes));
    // A prime stride makes neighbouring keys' slices differ.
    const slice = (k: number) => {
      const offset = (k * 4_099) % (pool.length - valueBytes);
      return pool.subarray(offset, offset + valueBytes);
    };
    await msetPipelined(client, keyCount, Math.max(1, Math.floor(DATASET_BATCH_BYTES / valueBytes)), slice, signal);
    const keys = await client.dbsize();
    if (keys < keyCount) throw new Error(`redis holds ${keys} keys after loading ${keyCount} (${datasetMiB} MiB of ${valueBytes}-byte values)`);
    // Redis 7.0 refuses BGREWRITEAOF while a rewrite runs (an automatic one, started by the load):
    // wait that one out, then start ours, which covers every key.
    for (;;) {
      await aofRewriteIdle(client, signal);
      try {
        await client.bgrewriteaof();
        break;
      } catch (err) {
        if (!/already in progress/i.test(err instanceof Error ? err.message : String(err))) throw err;
      }
    }
    await sleep(REWRITE_POLL_MS, signal);
    const info = await aofRewriteIdle(client, signal);
    if (!/aof_last_bgrewrite_status:ok/.test(info))
      throw new Error(`redis: the AOF rewrite after loading ${datasetMiB} MiB failed (INFO persistence: aof_last_bgrewrite_status not ok)`);
  }

  probes(service: Endpoint, options: ProbeOptions): Probe[] {
    // Beside the connected client, a fresh connection per tick: the service's own outage (service_downtime_ms).
    return [new RedisProbe(service, options), new FreshConnectionProbe('redis', service, options, REDIS_PING)];
  }
}

/** Writes `key:0` … `key:<count−1>` with MSETs of `batch` keys, FILL_PIPELINE_DEPTH of them in flight. */
async function msetPipelined(client: Redis, count: number, batch: number, value: (k: number) => string | Buffer, signal?: AbortSignal): Promise<void> {
  let pending: Promise<unknown>[] = [];
  for (let start = 0; start < count; start += batch) {
    signal?.throwIfAborted();
    const args: (string | Buffer)[] = [];
    for (let k = start; k < Math.min(start + batch, count); k++) args.push(`key:${k}`, value(k));
    pending.push(client.mset(...args));
    if (pending.length >= FILL_PIPELINE_DEPTH) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
}

/** Resolves, with INFO persistence, once no AOF rewrite is running or scheduled. */
async function aofRewriteIdle(client: Redis, signal?: AbortSignal): Promise<string> {
  for (;;) {
    const info = await client.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return info;
    await sleep(REWRITE_POLL_MS, signal);
  }
}

/** `used_memory` from INFO memory: the bytes Redis' allocator holds (what a CRIU dump copies, give or take the process' own pages). */
function usedMemory(info: string): number | undefined {
  const match = /^used_memory:(\d+)\r?$/m.exec(info);
  return match ? Number(match[1]) : undefined;
}
