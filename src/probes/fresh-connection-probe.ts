// The service's outage as a newcomer sees it: every tick opens a NEW TCP connection to the service
// address, sends one request (Redis: PING; HTTP: GET), waits for the answer and closes — a load
// balancer's health check, or a client that connects per request. The connected probes (redis-probe:
// one long-lived connection that must notice the move and reconnect) see the longer outage a pooled
// client sees; the difference is the client's own part (trials.csv anat_client_gap_ms). Open loop on
// the same schedule as the other probes, its own timeout of one interval, never retried. Its samples
// are named `<probe>-fresh` and feed only the service_* columns (src/metrics/service-outage.ts), so
// every other figure stays as the connected probe measures it.
import { connect, type Socket } from 'node:net';
import type { Endpoint } from '../model/endpoint.ts';
import type { Sample, SampleError } from '../model/timeline.ts';
import { OpenLoopTicker } from './open-loop.ts';
import { SampleLog } from './sample-log.ts';
import type { Probe, ProbeOptions } from './probe.ts';

import { FRESH_PROBE_SUFFIX } from '../metrics/service-outage.ts';

/** One request on a new connection: the bytes to send, and whether what came back so far is a complete good answer. */
export interface FreshRequest {
  send: string;
  /** 'ok', 'wrong' (a complete wrong answer) or 'more' (wait for more bytes). */
  judge(received: string): 'ok' | 'wrong' | 'more';
}

/** Inline PING: RESP needs no handshake, so connect + one round trip is the whole cost. */
export const REDIS_PING: FreshRequest = {
  send: 'PING\r\n',
  judge: (r) => (r.startsWith('+PONG\r\n') ? 'ok' : r.includes('\r\n') ? 'wrong' : 'more'),
};

/** GET of a path; any 2xx status line is an answer (the body is not waited for). */
export function httpGet(path: string): FreshRequest {
  return {
    send: `GET ${path} HTTP/1.1\r\nHost: migbench\r\nConnection: close\r\n\r\n`,
    judge: (r) => {
      const line = /^HTTP\/1\.[01] (\d{3})/.exec(r);
      if (!line) return r.includes('\r\n') ? 'wrong' : 'more';
      return line[1]!.startsWith('2') ? 'ok' : 'wrong';
    },
  };
}

function classify(err: NodeJS.ErrnoException): SampleError {
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'reset';
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return 'unreachable';
  if (err.code === 'ETIMEDOUT') return 'timeout';
  return 'other';
}

export class FreshConnectionProbe implements Probe {
  readonly name: string;
  private readonly target: Endpoint;
  private readonly timeoutMs: number;
  private readonly request: FreshRequest;
  private readonly log = new SampleLog();
  private readonly ticker: OpenLoopTicker;

  /** `of`: the connected probe this one stands beside (its samples are named `<of>-fresh`). */
  constructor(of: string, target: Endpoint, options: ProbeOptions, request: FreshRequest) {
    this.name = `${of}${FRESH_PROBE_SUFFIX}`;
    this.target = target;
    this.timeoutMs = options.timeoutMs;
    this.request = request;
    this.ticker = new OpenLoopTicker(options.intervalMs, (_i, at) => this.tick(at));
  }

  async start(): Promise<void> {
    this.ticker.start();
  }

  private tick(scheduledAt: number): void {
    const sentAt = performance.now();
    const done = new Promise<void>((resolve) => {
      let socket: Socket | undefined;
      let received = '';
      let finished = false;
      const finish = (ok: boolean, error: SampleError, detail?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        // Destroy, not end(): no FIN handshake to wait for, and the next tick is a new connection anyway.
        socket?.destroy();
        this.log.record({ probe: this.name, scheduledAt, sentAt, doneAt: performance.now(), ok, error, ...(detail ? { detail } : {}) });
        resolve();
      };
      // One deadline for connect + request + answer, from when the tick was sent (as the connected
      // probe's command timeout): a tick this process sent late is late (send_lag_ms), not a failure
      // of the service. Measured from the due time instead, every tick after a stall of this
      // process's event loop timed out — outages 10–25 ms longer than an independent probe saw.
      const timer = setTimeout(() => finish(false, 'timeout', `no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
      socket.setEncoding('latin1');
      socket.on('connect', () => socket!.write(this.request.send));
      socket.on('data', (chunk: string) => {
        received += chunk;
        const verdict = this.request.judge(received);
        if (verdict === 'ok') finish(true, '');
        else if (verdict === 'wrong') finish(false, 'wrong_reply', received.slice(0, 80));
      });
      socket.on('error', (err: NodeJS.ErrnoException) => finish(false, classify(err), err.message));
      socket.on('close', () => finish(false, 'reset', 'closed before a complete answer'));
    });
    this.log.track(done);
  }

  answering(): boolean {
    return this.log.answering();
  }

  async stop(): Promise<Sample[]> {
    this.ticker.stop();
    return this.log.drain();
  }
}
