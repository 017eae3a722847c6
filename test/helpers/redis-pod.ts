// A Redis pod on the test platform, loaded and behind a service, and a client to talk to it.
import { Redis } from 'ioredis';
import type { LocalPlatform } from '../../src/platforms/local/local-platform.ts';
import type { Pod, Service } from '../../src/platforms/local/node-runtime.ts';
import { RedisWorkload } from '../../src/workloads/redis.ts';
import { silentEvents } from './host.ts';

export async function withRedis<T>(host: string, port: number, f: (c: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 5000, commandTimeout: 30_000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await f(client);
  } finally {
    client.disconnect();
  }
}

/** A loaded Redis pod on node-a behind a service, as a trial's deploy + prepare phases leave it. */
export async function deployRedis(platform: LocalPlatform, name: string, keys: number): Promise<{ workload: RedisWorkload; pod: Pod; service: Service }> {
  const workload = new RedisWorkload({ type: 'redis', name, keys, valueBytes: 32, appendfsync: 'everysec' });
  for (const v of workload.volumes()) await platform.createVolume(v);
  const pod = await platform.startPod(workload.podSpec(), 'node-a', silentEvents);
  await workload.waitReady({ host: pod.ip, port: workload.port }, 20_000);
  const service = await platform.createService(name, workload.port);
  await platform.setServiceEndpoint(service, pod, silentEvents);
  await workload.prepare(service.address);
  return { workload, pod, service };
}
