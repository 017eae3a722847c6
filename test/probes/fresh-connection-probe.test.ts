// The fresh-connection probe against a real TCP server on loopback: one new connection per tick,
// answers judged, a closed port refused, garbage a wrong reply.
import { afterEach, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { FreshConnectionProbe, REDIS_PING, httpGet } from '../../src/probes/fresh-connection-probe.ts';
import { probeOptions } from '../../src/probes/probe.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

async function listen(answer: (socket: Socket, request: string) => void): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  server = createServer((socket) => {
    connections++;
    socket.once('data', (data) => answer(socket, data.toString('latin1')));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, connections: () => connections };
}

const probeFor = (port: number, request = REDIS_PING) =>
  new FreshConnectionProbe('redis', { host: '127.0.0.1', port }, probeOptions({ intervalMs: 10, timeoutMs: 200 }), request);

it('PING on a new connection every tick: ok samples named redis-fresh, one connection each', async () => {
  const { port, connections } = await listen((s, req) => (req === 'PING\r\n' ? s.end('+PONG\r\n') : s.end('-ERR\r\n')));
  const probe = probeFor(port);
  await probe.start();
  await new Promise((r) => setTimeout(r, 120));
  const samples = await probe.stop();
  expect(samples.length).toBeGreaterThanOrEqual(8);
  expect(samples.every((s) => s.ok && s.probe === 'redis-fresh')).toBe(true);
  expect(connections()).toBe(samples.length);
});

it('a wrong answer is wrong_reply; nothing listening is refused', async () => {
  const { port } = await listen((s) => s.end('-LOADING Redis is loading\r\n'));
  const probe = probeFor(port);
  await probe.start();
  await new Promise((r) => setTimeout(r, 50));
  expect(new Set((await probe.stop()).map((s) => s.error))).toEqual(new Set(['wrong_reply']));
  await new Promise<void>((done) => server!.close(() => done()));
  server = undefined;
  const refused = probeFor(port);
  await refused.start();
  await new Promise((r) => setTimeout(r, 50));
  expect(new Set((await refused.stop()).map((s) => s.error))).toEqual(new Set(['refused']));
});

it('HTTP: a 2xx status line is an answer, a 503 is not', async () => {
  let status = 200;
  const { port } = await listen((s) => s.end(`HTTP/1.0 ${status} X\r\n\r\n`));
  const probe = probeFor(port, httpGet('/health'));
  await probe.start();
  await new Promise((r) => setTimeout(r, 40));
  status = 503;
  await new Promise((r) => setTimeout(r, 40));
  const samples = await probe.stop();
  expect(samples[0]!.ok).toBe(true);
  expect(samples.at(-1)).toMatchObject({ ok: false, error: 'wrong_reply' });
});
