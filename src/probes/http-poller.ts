// Open-loop HTTP polling, shared by the probes of HTTP workloads: every tick sends GET `url`, each
// request on its own connection (the workloads answer HTTP/1.0 and close) with a connect timeout and
// an overall deadline of `timeoutMs`, never retried, so an outage shows as failed samples. What an
// answer means is the probe's business (`judge`).
import { Agent, request } from 'undici';
import type { MonotonicMs } from '../clock.ts';
import type { Sample, SampleError } from '../model/timeline.ts';
import { OpenLoopTicker } from './open-loop.ts';
import { SampleLog } from './sample-log.ts';
import type { ProbeOptions } from './probe.ts';

interface Verdict {
  ok: boolean;
  error: SampleError;
  detail?: string;
}

/** Turns one HTTP answer into a sample's verdict; `doneAt` is when the body had arrived. */
export type Judge = (status: number, body: string, doneAt: MonotonicMs) => Verdict;

function classifyHttpError(err: unknown): SampleError {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code ?? '';
  const message = `${e?.message ?? String(err)} ${e?.cause?.message ?? ''}`;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /TIMEOUT/.test(code) || code === 'ETIMEDOUT' || /timed? ?out/i.test(message)) return 'timeout';
  // llhttp refused the answer (HPE_*): not HTTP at all, an app answering garbage.
  if (/^HPE_/.test(code) || e?.name === 'HTTPParserError' || /HPE_/.test(message)) return 'wrong_reply';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || /other side closed|ECONNRESET|EPIPE/i.test(message)) return 'reset';
  return 'other';
}

function errorDetail(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}

export class HttpPoller {
  private readonly probeName: string;
  private readonly url: string;
  private readonly options: ProbeOptions;
  private readonly judge: Judge;
  private readonly agent: Agent;
  private readonly log = new SampleLog();
  private readonly ticker: OpenLoopTicker;

  constructor(probeName: string, url: string, options: ProbeOptions, judge: Judge) {
    this.probeName = probeName;
    this.url = url;
    this.options = options;
    this.judge = judge;
    // The servers close after each answer; keep-alive capped anyway so a connection to a pod that
    // vanished is never reused.
    this.agent = new Agent({ connect: { timeout: options.connectTimeoutMs }, keepAliveTimeout: 1, pipelining: 0 });
    this.ticker = new OpenLoopTicker(options.intervalMs, (_i, at) => this.tick(at));
  }

  start(): void {
    this.ticker.start();
  }

  private tick(scheduledAt: MonotonicMs): void {
    const sentAt = performance.now();
    const pending = (async () => {
      let verdict: Verdict;
      let doneAt: MonotonicMs;
      try {
        const response = await request(this.url, {
          dispatcher: this.agent,
          signal: AbortSignal.timeout(this.options.timeoutMs),
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        });
        const body = await response.body.text();
        doneAt = performance.now();
        verdict = this.judge(response.statusCode, body, doneAt);
      } catch (err) {
        doneAt = performance.now();
        verdict = { ok: false, error: classifyHttpError(err), detail: errorDetail(err) };
      }
      const { ok, error, detail } = verdict;
      this.log.record({ probe: this.probeName, scheduledAt, sentAt, doneAt, ok, error, ...(detail ? { detail } : {}) });
    })();
    this.log.track(pending);
  }

  /** Whether the newest finished tick was answered (SampleLog.answering). */
  answering(): boolean {
    return this.log.answering();
  }

  /** Stops ticking, waits for outstanding requests (bounded by their timeout), returns the samples in schedule order. */
  async stop(): Promise<Sample[]> {
    this.ticker.stop();
    const samples = await this.log.drain();
    await this.agent.close().catch(() => undefined);
    return samples;
  }
}
