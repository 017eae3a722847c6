// The redis probe's first connection may fail for reasons of the path, not of the app (a connect
// slower than connectTimeoutMs through a NodePort on a busy host, a lost SYN): ioredis rejects its
// connect() with "Connection is closed." and retries. That ended a trial in `settle` before any
// migration; now start() waits for the retry. A loopback server that starts after the first attempt
// was refused answers RESP (HSET, HGET).
import { afterEach, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { RedisProbe } from '../../src/probes/redis-probe.ts';
import { probeOptions } from '../../src/probes/probe.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** Answers each RESP command array: HSET → :1, HGET → the field asked for (what the probe wrote). */
function answerRedis(socket: Socket): void {
  let buffer = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    buffer += chunk;
    for (;;) {
      const parts = /^\*(\d+)\r\n/.exec(buffer);
      if (!parts) return;
      let at = parts[0].length;
      const args: string[] = [];
      for (let i = 0; i < Number(parts[1]); i++) {
        const head = /^\$(\d+)\r\n/.exec(buffer.slice(at));
        if (!head || buffer.length < at + head[0].length + Number(head[1]) + 2) return;
        at += head[0].length;
        args.push(buffer.slice(at, at + Number(head[1])));
        at += Number(head[1]) + 2;
      }
      buffer = buffer.slice(at);
      const command = args[0]!.toLowerCase();
      socket.write(command === 'hget' ? `$${args[2]!.length}\r\n${args[2]}\r\n` : ':1\r\n');
    }
  });
}

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

it('starts once a later attempt connects when the first one fails (refused: the server is not up yet), and then probes', async () => {
  const port = await freePort();
  // A patient timeout: what is tested is the start, not this busy host's latency.
  const probe = new RedisProbe({ host: '127.0.0.1', port }, probeOptions({ intervalMs: 10, timeoutMs: 2_000 }));
  const started = probe.start();
  await new Promise((r) => setTimeout(r, 150));
  server = createServer(answerRedis);
  await new Promise<void>((done) => server!.listen(port, '127.0.0.1', done));
  await started;
  await new Promise((r) => setTimeout(r, 200));
  const samples = await probe.stop();
  expect(samples.filter((s) => s.ok).length).toBeGreaterThan(5);
  expect(samples.filter((s) => !s.ok).map((s) => `${s.error} ${s.detail}`)).toEqual([]);
});

it('still fails, saying why, when no connection comes up at all', { timeout: 20_000 }, async () => {
  const port = await freePort();
  const probe = new RedisProbe({ host: '127.0.0.1', port }, probeOptions({ intervalMs: 5 }));
  await expect(probe.start()).rejects.toThrow(
    new RegExp(`redis probe: no connection to 127.0.0.1:${port} within 10000 ms \\(first attempt: .*; last: refused\\)`),
  );
  await probe.stop();
});
