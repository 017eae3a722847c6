// A probe measures the service from a client's point of view while a pod moves. It only records
// samples; what they mean (downtime, ...) is computed afterwards from the samples alone.
import type { Sample } from '../timeline.ts';

export interface ProbeFindings {
  /** Writes acknowledged to the client that the server no longer has after the trial. */
  redisAckedWritesLost?: number;
}

export interface Probe {
  readonly name: string;
  /** Connects and starts ticking; resolves once the first tick is scheduled. */
  start(): Promise<void>;
  /** Stops ticking, waits for outstanding requests (bounded by their timeout) and hands back every sample. */
  stop(): Promise<Sample[]>;
  /** After stop: checks the service's state against what the probe saw acknowledged. */
  verify?(): Promise<ProbeFindings>;
}

export interface ProbeOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Drop a connection that answered nothing for this long and open a new one. */
  reconnectAfterMs: number;
  connectTimeoutMs: number;
}

/** Fills in the probe options the scenario left out (see the schema for the reasons of each default). */
export function probeOptions(p: { intervalMs: number; timeoutMs?: number; reconnectAfterMs?: number; connectTimeoutMs?: number }): ProbeOptions {
  const patience = Math.max(50, 10 * p.intervalMs);
  return {
    intervalMs: p.intervalMs,
    timeoutMs: p.timeoutMs ?? p.intervalMs,
    reconnectAfterMs: p.reconnectAfterMs ?? patience,
    connectTimeoutMs: p.connectTimeoutMs ?? patience,
  };
}
