// A probe measures the service from a client's point of view while a pod moves. It only records
// (samples, and its workload's raw records); what they mean (downtime, frames lost, ...) is computed
// afterwards by src/metrics/.
import type { ProbeRecords, Verification } from '../model/records.ts';
import type { PhaseEvent, Sample } from '../model/timeline.ts';

export interface Probe {
  readonly name: string;
  /** Connects and starts ticking; resolves once the first tick is scheduled. */
  start(): Promise<void>;
  /** Stops ticking, waits for outstanding requests (bounded by their timeout) and hands back every sample. */
  stop(): Promise<Sample[]>;
  /**
   * While running: whether the newest of its ticks to finish was answered. A probe without it is
   * never waited for when probing ends (ProbeSession.endOnAnswer).
   */
  answering?(): boolean;
  /**
   * After stop: what it recorded besides its samples, raw (model/records.ts) — kept in the results
   * also when the trial failed; the workload's figures are computed from it after the trial.
   */
  records?(): ProbeRecords;
  /** After stop: what the client noticed (e.g. a broken stream), as timeline events with source probe:<name>. */
  events?(): readonly PhaseEvent[];
  /** After stop, once the move is over: asks the service what became of what the probe saw acknowledged. */
  verify?(): Promise<Verification>;
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
