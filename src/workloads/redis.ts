// Redis with AOF persistence, its data directory on a volume in the shared store, so a pod started
// fresh elsewhere reloads the AOF (redeploy), while a restored pod carries its memory (criu).
import { Redis } from 'ioredis';
import { sleep } from '../clock.ts';
import type { Endpoint, PodSpec } from '../platforms/platform.ts';
import type { Probe, ProbeOptions } from '../probes/probe.ts';
import { RedisProbe } from '../probes/redis-probe.ts';
import type { RedisWorkloadConfig } from '../scenario/schema.ts';
import type { Workload } from './workload.ts';

const REDIS_PORT = 6379;
/** Keys per MSET when loading the data set; batches are pipelined. */
const FILL_BATCH = 1_000;
const FILL_PIPELINE_DEPTH = 16;

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
      command: [
        'redis-server',
        '--bind', '0.0.0.0',
        '--port', String(REDIS_PORT),
        '--protected-mode', 'no',
        '--appendonly', 'yes',
        '--appendfsync', this.config.appendfsync,
        '--dir', '/data',
        // AOF only: no RDB snapshots, whose fork would disturb the measurement at random moments.
        '--save', '',
        '--daemonize', 'no',
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

  async prepare(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
    const client = new Redis({ host: endpoint.host, port: endpoint.port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 5_000, commandTimeout: 120_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const value = 'v'.repeat(this.config.valueBytes);
      let pending: Promise<unknown>[] = [];
      for (let start = 0; start < this.config.keys; start += FILL_BATCH) {
        signal?.throwIfAborted();
        const args: string[] = [];
        for (let k = start; k < Math.min(start + FILL_BATCH, this.config.keys); k++) args.push(`key:${k}`, value);
        pending.push(client.mset(...args));
        if (pending.length >= FILL_PIPELINE_DEPTH) {
          await Promise.all(pending);
          pending = [];
        }
      }
      await Promise.all(pending);
      const keys = await client.dbsize();
      if (keys < this.config.keys) throw new Error(`redis holds ${keys} keys after loading ${this.config.keys}`);
    } finally {
      client.disconnect(false);
    }
  }

  probes(service: Endpoint, options: ProbeOptions): Probe[] {
    return [new RedisProbe(service, options)];
  }
}
