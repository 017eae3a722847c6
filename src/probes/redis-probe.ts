// Redis probe: every tick writes its sequence number and reads it back on one persistent
// connection, open loop. The client is set up so an outage shows as failed samples, never as
// queued latency: no offline queue, no automatic resend, a per-command timeout no longer than the
// interval. A connection whose requests only time out is declared dead after `reconnectAfterMs` and
// replaced, as a production client with a health check does; otherwise a client of a pod whose
// network vanished would wait for TCP's retransmission timeout (minutes), not for the service.
import { Redis } from 'ioredis';
import type { Endpoint } from '../model/endpoint.ts';
import type { PhaseEvent, Sample, SampleError } from '../model/timeline.ts';
import { OpenLoopTicker } from './open-loop.ts';
import { SampleLog } from './sample-log.ts';
import type { RedisRecords, Verification } from '../model/records.ts';
import type { Probe, ProbeOptions } from './probe.ts';

/** The hash holding one field per acknowledged write: field = sequence number. */
export const PROBE_KEY = 'migbench:probe:writes';

export function classifyRedisError(err: unknown): SampleError {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | undefined)?.code ?? '';
  // Command timeout ("Command timed out") or connect timeout (ETIMEDOUT: the SYN went unanswered,
  // e.g. towards a frozen, network-locked pod).
  // Bytes that are not RESP (the parser gives up and ioredis drops the connection): an app answering garbage.
  if (/Protocol error|Unknown RESP type/i.test(message) || (err as { name?: string } | undefined)?.name === 'ParserError') return 'wrong_reply';
  if (/timed out/i.test(message) || code === 'ETIMEDOUT' || /ETIMEDOUT/.test(message)) return 'timeout';
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return 'refused';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /UNREACH/.test(message)) return 'unreachable';
  if (code === 'ECONNRESET' || code === 'EPIPE' || /ECONNRESET|EPIPE|Connection is closed/i.test(message)) return 'reset';
  // ioredis fails the commands in flight this way when their connection closes under them.
  if (/max retries per request/i.test(message)) return 'reset';
  if (/isn't writeable|enableOfflineQueue/i.test(message)) return 'disconnected';
  // An error reply from the server, e.g. LOADING while a restarted Redis replays its AOF.
  if ((err as { name?: string } | undefined)?.name === 'ReplyError') return 'server_error';
  return 'other';
}

/** How long start() keeps trying to open its first connection. */
const START_CONNECT_TIMEOUT_MS = 10_000;

export class RedisProbe implements Probe {
  readonly name = 'redis';
  private readonly target: Endpoint;
  private readonly options: ProbeOptions;
  private readonly client: Redis;
  private readonly log = new SampleLog();
  private readonly acked: number[] = [];
  private readonly ticker: OpenLoopTicker;
  private lastSuccessAt = 0;
  private lastConnectionError: SampleError = '';
  /** Ends of connections that had been established, while probing: what `connections_broken` counts. */
  private readonly connectionsClosed: PhaseEvent[] = [];
  private connected = false;
  private probing = false;

  constructor(target: Endpoint, options: ProbeOptions) {
    this.target = target;
    this.options = options;
    this.client = new Redis({
      host: target.host,
      port: target.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      commandTimeout: options.timeoutMs,
      connectTimeout: options.connectTimeoutMs,
      // Reconnect one interval after a failure, forever: the probe wants to see the service come back.
      retryStrategy: () => Math.max(1, Math.round(options.intervalMs)),
      reconnectOnError: () => false,
      // RESP2 and no CLIENT SETINFO: a new connection is usable the moment TCP connects, with no
      // handshake round trip that would add to the measured outage.
      protocol: 2,
      disableClientInfo: true,
    });
    // Connection errors also fail the commands outstanding on them; this remembers the cause so a
    // tick fired while disconnected says why (refused vs unreachable), and stops ioredis logging it.
    this.client.on('error', (err) => {
      this.lastConnectionError = classifyRedisError(err);
    });
    // 'close' also follows every failed reconnect attempt; only a connection that was up can break.
    this.client.on('connect', () => {
      this.connected = true;
    });
    this.client.on('close', () => {
      if (this.connected && this.probing) {
        this.connectionsClosed.push({
          at: performance.now(),
          source: `probe:${this.name}`,
          event: 'connection_closed',
          detail: this.lastConnectionError || 'closed',
        });
      }
      this.connected = false;
    });
    this.ticker = new OpenLoopTicker(options.intervalMs, (i, at) => this.tick(i, at));
  }

  async start(): Promise<void> {
    await connectWithin(this.client, START_CONNECT_TIMEOUT_MS, () => this.lastConnectionError);
    this.lastSuccessAt = performance.now();
    this.probing = true;
    this.ticker.start();
  }

  private tick(seq: number, scheduledAt: number): void {
    const sentAt = performance.now();
    const field = String(seq);
    const request = (async () => {
      let ok = false;
      let error: SampleError = '';
      let detail: string | undefined;
      // Both commands go out back to back on the one connection: one round trip. A write counts as
      // acknowledged whenever its reply arrives, even if the read failed.
      const [write, read] = await Promise.allSettled([
        this.client.hset(PROBE_KEY, field, field).then(() => void this.acked.push(seq)),
        this.client.hget(PROBE_KEY, field),
      ]);
      const failure = write.status === 'rejected' ? write.reason : read.status === 'rejected' ? read.reason : undefined;
      if (failure !== undefined) {
        error = classifyRedisError(failure);
        if (error === 'disconnected' && this.lastConnectionError) error = this.lastConnectionError;
        detail = failure instanceof Error ? failure.message : String(failure);
      } else {
        ok = read.status === 'fulfilled' && read.value === field;
        if (!ok) error = 'wrong_reply';
      }
      const doneAt = performance.now();
      this.log.record({ probe: this.name, scheduledAt, sentAt, doneAt, ok, error, ...(detail ? { detail } : {}) });
      this.afterSample(ok, error, doneAt);
    })();
    this.log.track(request);
  }

  answering(): boolean {
    return this.log.answering();
  }

  private afterSample(ok: boolean, error: SampleError, doneAt: number): void {
    if (ok) {
      this.lastSuccessAt = doneAt;
      this.lastConnectionError = '';
      return;
    }
    // A connection that is open ('connect' or 'ready') but has answered nothing for reconnectAfterMs is
    // dead (frozen or vanished peer). 'connecting' is bounded by connectTimeoutMs, 'reconnecting' by
    // the retry delay, so only open connections need this.
    const open = this.client.status === 'ready' || this.client.status === 'connect';
    if (open && doneAt - this.lastSuccessAt >= this.options.reconnectAfterMs) {
      this.lastSuccessAt = doneAt; // one reconnect per dead period, not one per timed-out tick
      // Destroy, not disconnect(): a graceful close sends a FIN the dead peer never answers, and the
      // client would sit in that half-closed connection instead of reconnecting.
      this.client.stream.destroy();
    }
  }

  async stop(): Promise<Sample[]> {
    this.ticker.stop();
    const samples = await this.log.drain();
    this.probing = false;
    this.client.disconnect(false);
    return samples;
  }

  records(): RedisRecords {
    return { probe: 'redis', connectionsClosed: this.connectionsClosed.length };
  }

  events(): readonly PhaseEvent[] {
    return this.connectionsClosed;
  }

  /** Counts acknowledged writes that the server does not have, read through the service with a patient client. */
  async verify(): Promise<Verification> {
    const checker = new Redis({
      host: this.target.host,
      port: this.target.port,
      lazyConnect: true,
      maxRetriesPerRequest: 3,
      connectTimeout: 5_000,
      commandTimeout: 30_000,
    });
    checker.on('error', () => undefined);
    try {
      await connectWithin(checker, START_CONNECT_TIMEOUT_MS);
      const present = new Set(await checker.hkeys(PROBE_KEY));
      const lost = this.acked.filter((seq) => !present.has(String(seq))).length;
      return { redisAckedWritesLost: lost };
    } catch (err) {
      // The row's error must say what could not be done, not only ioredis' last word.
      throw new Error(
        `could not read the ${this.acked.length} acknowledged writes back through the service (${this.target.host}:${this.target.port}): ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      checker.disconnect(false);
    }
  }
}

/**
 * Connects `client`, however many attempts it takes within `timeoutMs` (its retryStrategy makes
 * them). One attempt can fail for reasons of the path, not of the app that answered a moment before:
 * a connect slower than the probe's connectTimeoutMs (50 ms by default) through a NodePort on a busy
 * host, a SYN lost. ioredis then rejects connect() with "Connection is closed." while it goes on
 * trying — which ended one trial of 18 on the lab's nodes in `settle`, before any migration (issue 19).
 */
async function connectWithin(client: Redis, timeoutMs: number, lastError: () => string = () => ''): Promise<void> {
  let firstError: string;
  try {
    await client.connect();
    return;
  } catch (err) {
    firstError = err instanceof Error ? err.message : String(err);
  }
  const { host, port } = client.options;
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`redis probe: no connection to ${host}:${port} within ${timeoutMs} ms (first attempt: ${firstError}; last: ${lastError() || 'none'})`));
    }, timeoutMs);
    client.on('ready', onReady);
    if (client.status === 'ready') onReady();
  });
}
