// A runc pod comes up in its own network namespace on its node's CPUs, the service address reaches
// it, switching the service moves new connections, and a service without endpoint refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import type { Pod, Service } from '../../../src/platforms/local/node-runtime.ts';
import { RedisWorkload } from '../../../src/workloads/redis.ts';
import { createTestPlatform } from '../../helpers/platform.ts';
import { BRIDGE_MAC } from '../../../src/platforms/local/network.ts';
import { BRIDGE } from '../../../src/platforms/local/names.ts';
import { migbenchObjects, NOTHING, silentEvents } from '../../helpers/host.ts';

const workload = new RedisWorkload({ type: 'redis', name: 'svc-test', keys: 0, valueBytes: 8, appendfsync: 'everysec' });

async function redisGet(host: string, port: number, key: string): Promise<string | null> {
  const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.get(key);
  } finally {
    client.disconnect();
  }
}

function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.connect(port, host);
  });
}

describe('local platform: pods and services', () => {
  let platform: LocalPlatform;
  let pods: Pod[] = [];
  let service: Service;

  beforeAll(async () => {
    platform = await createTestPlatform();
    await platform.createVolume('svc-test-data');
    for (const node of ['node-a', 'node-b']) {
      const pod = await platform.startPod(workload.podSpec(), node, silentEvents);
      await workload.waitReady({ host: pod.ip, port: 6379 }, 20_000);
      pods.push(pod);
    }
    service = await platform.createService('svc-test', 6379);
  });

  afterAll(async () => {
    await platform?.close();
    expect(migbenchObjects()).toEqual(NOTHING);
  });

  it('runs each pod in its own network namespace with its own address, pinned to its node’s CPUs', async () => {
    const [a, b] = pods as [Pod, Pod];
    expect(a.ip).not.toBe(b.ip);
    expect(a.node).toBe('node-a');
    expect(b.node).toBe('node-b');
    const pidOf = (pod: Pod) => Number(readFileSync(`/run/migbench/pods/${pod.name}/pid`, 'utf8'));
    const cpus = (pod: Pod) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pidOf(pod)}/status`, 'utf8'))?.[1];
    expect(cpus(a)).toBe(platform.cpusets.get('node-a'));
    expect(cpus(b)).toBe(platform.cpusets.get('node-b'));
    const netns = (pod: Pod) => readFileSync(`/proc/${pidOf(pod)}/net/dev`, 'utf8');
    expect(netns(a)).toMatch(/eth0/);
    expect(netns(a)).not.toMatch(/migbench0/);
  });

  it("keeps the bridge's MAC when pods come and go (pods' ARP entries for the gateway stay right)", async () => {
    const mac = () => readFileSync(`/sys/class/net/${BRIDGE}/address`, 'utf8').trim();
    expect(mac()).toBe(BRIDGE_MAC);
    // Ports with lower and higher MACs than the bridge's come and go; without a fixed address the
    // bridge would take the lowest port MAC and change with them.
    for (let i = 0; i < 3; i++) {
      const extra = await platform.startPod(workload.podSpec(), 'node-a', silentEvents);
      expect(mac()).toBe(BRIDGE_MAC);
      await platform.removePod(extra);
      expect(mac()).toBe(BRIDGE_MAC);
    }
  });

  it('routes the service address to the current endpoint and switches new connections', async () => {
    const [a, b] = pods as [Pod, Pod];
    const direct = async (pod: Pod, value: string) => {
      const c = new Redis({ host: pod.ip, port: 6379, lazyConnect: true });
      await c.connect();
      await c.set('who', value);
      c.disconnect();
    };
    await direct(a, 'pod-a');
    await direct(b, 'pod-b');
    await platform.setServiceEndpoint(service, a, silentEvents);
    expect(await redisGet(service.address.host, service.address.port, 'who')).toBe('pod-a');
    await platform.setServiceEndpoint(service, b, silentEvents);
    expect(await redisGet(service.address.host, service.address.port, 'who')).toBe('pod-b');
  });

  it('refuses connections when the service has no endpoint, even if a host process listens on its port', async () => {
    await platform.setServiceEndpoint(service, null, silentEvents);
    const impostor: Server = createServer((s) => s.end('+IMPOSTOR\r\n'));
    await new Promise<void>((resolve) => impostor.listen(service.address.port, '0.0.0.0', resolve));
    try {
      expect(await connectOutcome(service.address.host, service.address.port)).toBe('ECONNREFUSED');
    } finally {
      impostor.close();
    }
  });

  it('keeps connections established before the endpoint was removed, as kube-proxy does', async () => {
    // A terminating pod serves its open connections until it closes them (a video stream gets its
    // EOF at SIGTERM); only new connections are refused.
    await platform.setServiceEndpoint(service, pods[0]!, silentEvents);
    const c = new Redis({
      host: service.address.host,
      port: service.address.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      commandTimeout: 1_000,
      retryStrategy: () => null,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      expect(await c.set('kept', 'yes')).toBe('OK');
      await platform.setServiceEndpoint(service, null, silentEvents);
      expect(await connectOutcome(service.address.host, service.address.port)).toBe('ECONNREFUSED');
      expect(await c.get('kept')).toBe('yes');
    } finally {
      c.disconnect();
    }
  });

  it('stops a pod with SIGTERM within the grace period', async () => {
    const result = await platform.stopPod(pods[1]!, 10_000, silentEvents);
    expect(result.killed).toBe(false);
    expect(result.stopMs).toBeLessThan(10_000);
  });
});
