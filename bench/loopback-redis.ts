// A redis-server on 127.0.0.1 with the pods' own flags (src/workloads/redis.ts), its data in `dir`:
// for measuring the probe's and the workload's client side against the real server, without a pod.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { redisWorkloadSchema } from '../src/scenario/schema.ts';
import { RedisWorkload } from '../src/workloads/redis.ts';
import type { Endpoint } from '../src/model/endpoint.ts';

export interface LoopbackRedis {
  endpoint: Endpoint;
  /** Kills the server (SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startLoopbackRedis(dir: string): Promise<LoopbackRedis> {
  const port = await freePort();
  const workload = new RedisWorkload(redisWorkloadSchema.parse({ type: 'redis' }));
  // The program's flags as a pod gets them: what follows redis-server in `command`, then `args`.
  const spec = workload.podSpec();
  const args = [...spec.command.slice(1), ...(spec.args ?? [])];
  const flags = args.map((a, i) => (args[i - 1] === '--bind' ? '127.0.0.1' : args[i - 1] === '--port' ? String(port) : args[i - 1] === '--dir' ? dir : a));
  const child = spawn('redis-server', flags, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`redis-server: ${err.message} (install it: apt-get install redis-server)`))),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const endpoint = { host: '127.0.0.1', port };
  try {
    await Promise.race([workload.waitReady(endpoint, 10_000), failed]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, stop };
}
