// Probing ends on an answer (src/runner/trial-parts.ts ProbeSession.endOnAnswer): a real HttpPoller
// against a real HTTP server on loopback. A server that missed the last ticks and answers again is
// waited for, so the last sample is an answer and the trial recovered; one that stays down is given
// END_ON_ANSWER_GRACE_MS and no more, and its outage still reaches the end.
import { afterEach, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { HttpPoller } from '../../src/probes/http-poller.ts';
import { probeOptions, type Probe } from '../../src/probes/probe.ts';
import { END_ON_ANSWER_GRACE_MS, ProbeSession } from '../../src/runner/trial-parts.ts';
import type { PhaseEvent } from '../../src/model/timeline.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A server whose answer is 200 or 503 as `up()` says at the time of each request. */
async function flakyServer(up: () => boolean): Promise<number> {
  server = createServer((req, res) => {
    res.writeHead(up() ? 200 : 503, { connection: 'close' });
    res.end('ok');
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function pollerProbe(port: number): Probe {
  const poller = new HttpPoller('app', `http://127.0.0.1:${port}/`, probeOptions({ intervalMs: 10, timeoutMs: 200 }), (status) =>
    status === 200 ? { ok: true, error: '' } : { ok: false, error: 'server_error' },
  );
  return { name: 'app', start: async () => poller.start(), stop: () => poller.stop(), answering: () => poller.answering() };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('waits past the window for a probe whose newest ticks failed, until it is answered', async () => {
  let upAfter = Number.POSITIVE_INFINITY;
  let down = false;
  const port = await flakyServer(() => !down || performance.now() >= upAfter);
  const events: PhaseEvent[] = [];
  const session = new ProbeSession(events);
  await session.start([pollerProbe(port)]);
  await pause(100);
  down = true; // the window ends in a hiccup …
  await pause(60);
  upAfter = performance.now() + 150; // … that ends 150 ms later
  const started = performance.now();
  await session.verify();
  const waited = performance.now() - started;
  expect(waited).toBeGreaterThanOrEqual(140);
  expect(waited).toBeLessThan(END_ON_ANSWER_GRACE_MS);
  const last = session.samples[session.samples.length - 1]!;
  expect(last.ok).toBe(true);
  expect(session.samples.filter((s) => !s.ok).length).toBeGreaterThanOrEqual(10);
  expect(events.find((e) => e.event === 'probes_end_wait')?.detail).toMatch(/^app answered again after \d+ ms$/);
});

it('gives a probe that stays down the grace and no more, and does not wait when the last tick was answered', async () => {
  let down = false;
  const port = await flakyServer(() => !down);
  const events: PhaseEvent[] = [];
  const session = new ProbeSession(events);
  await session.start([pollerProbe(port)]);
  await pause(60);
  down = true;
  await pause(40);
  const started = performance.now();
  await session.verify();
  const waited = performance.now() - started;
  expect(waited).toBeGreaterThanOrEqual(END_ON_ANSWER_GRACE_MS - 5);
  expect(waited).toBeLessThan(END_ON_ANSWER_GRACE_MS + 500);
  expect(session.samples[session.samples.length - 1]!.ok).toBe(false);
  expect(events.find((e) => e.event === 'probes_end_wait')?.detail).toMatch(/^app still not answering after \d+ ms$/);

  const upEvents: PhaseEvent[] = [];
  const upSession = new ProbeSession(upEvents);
  down = false;
  await upSession.start([pollerProbe(port)]);
  await pause(60);
  const quick = performance.now();
  await upSession.verify();
  expect(performance.now() - quick).toBeLessThan(100);
  expect(upEvents.some((e) => e.event === 'probes_end_wait')).toBe(false);
});
