// RedisWorkload.waitReady is part of every measured downtime, so it must notice the moment Redis has
// loaded its AOF. A fake Redis answers LOADING (and INFO with loading:1, as Redis does) for 300 ms,
// then PONG: readiness must be seen within 100 ms of that (a coarser poll, or a wait between
// attempts like ioredis' loading retry, fails here).
import { createServer, type Server } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { redisWorkloadSchema } from '../../src/scenario/schema.ts';
import { RedisWorkload } from '../../src/workloads/redis.ts';

let server: Server | undefined;
afterEach(() => server?.close());

it('sees Redis ready within milliseconds of the end of AOF loading', async () => {
  const loadedAt = performance.now() + 300;
  server = createServer((socket) => {
    socket.on('data', (data) => {
      const loading = performance.now() < loadedAt;
      // One reply per command in the chunk (RESP arrays start with '*').
      for (const command of data
        .toString()
        .split('*')
        .filter((c) => c.includes('\r\n'))) {
        if (/info/i.test(command)) {
          const body = `# Persistence\r\nloading:${loading ? 1 : 0}\r\nloading_eta_seconds:0\r\n`;
          socket.write(`$${body.length}\r\n${body}\r\n`);
        } else if (loading) socket.write('-LOADING Redis is loading the dataset in memory\r\n');
        else socket.write('+PONG\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const workload = new RedisWorkload(redisWorkloadSchema.parse({ type: 'redis' }));
  await workload.waitReady({ host: '127.0.0.1', port }, 5_000);
  const late = performance.now() - loadedAt;
  expect(late).toBeGreaterThanOrEqual(0);
  expect(late).toBeLessThan(100);
});
