// Readiness of an HTTP workload: GET `path` until it answers 200. Each attempt gets a short connect
// timeout so a lost SYN (the first packets to a pod whose network just came up) costs 100 ms, not
// TCP's 1 s initial retransmission timeout — the readiness check is part of the measured downtime.
import { Agent, request } from 'undici';
import { sleep } from '../clock.ts';
import type { Endpoint } from '../model/endpoint.ts';

const CONNECT_TIMEOUT_MS = 100;
/** An answer may be slow (a Python server sharing its GIL with a training loop): p99 measured ~7 ms. */
const ANSWER_TIMEOUT_MS = 1_000;
const RETRY_MS = 10;

const agent = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, keepAliveTimeout: 1, pipelining: 0 });

export async function waitForHttp(what: string, endpoint: Endpoint, path: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const response = await request(`http://${endpoint.host}:${endpoint.port}${path}`, {
        dispatcher: agent,
        signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      });
      await response.body.dump();
      if (response.statusCode === 200) return;
      last = `HTTP ${response.statusCode}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(RETRY_MS, signal);
  }
  throw new Error(`${what} at ${endpoint.host}:${endpoint.port} not ready after ${timeoutMs} ms (last: ${last || 'none'})`);
}
