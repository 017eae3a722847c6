// What a trial observes, as plain data. Probes and strategies only record; metrics are computed
// afterwards by pure functions over these records (see src/metrics/).
import type { EventName } from './events.ts';

/** Milliseconds on the process-wide monotonic clock (src/clock.ts reads it). */
export type MonotonicMs = number;

/** Why a probe sample failed. '' when it succeeded. */
export type SampleError =
  | ''
  | 'timeout' // no answer within the probe's timeout
  | 'refused' // connection refused (nothing listening, or no endpoint behind the service)
  | 'reset' // connection reset or closed by the peer while the request was outstanding
  | 'unreachable' // no route / host unreachable
  | 'disconnected' // the client had no open connection when the tick fired (it was reconnecting)
  | 'wrong_reply' // an answer came, but not the one expected (e.g. read-your-write failed)
  | 'server_error' // the server answered with an error (e.g. Redis' LOADING while it replays its AOF)
  | 'other';

/**
 * One probe tick. Times are on the monotonic clock (ms). A tick is scheduled at an absolute time
 * (start + i × interval) and fired whether or not earlier ticks have answered (open loop).
 */
export interface Sample {
  probe: string;
  /** When the tick was due. */
  scheduledAt: MonotonicMs;
  /** When the request was actually handed to the client library (≥ scheduledAt). */
  sentAt: MonotonicMs;
  /** When the answer (or the failure) arrived. */
  doneAt: MonotonicMs;
  ok: boolean;
  error: SampleError;
  /** Free text for the failure (library message), kept for debugging; not a metric. */
  detail?: string;
}

/** A phase boundary reported by a strategy, platform or the trial runner. */
export interface PhaseEvent {
  at: MonotonicMs;
  /** Who reported it: 'trial', 'strategy:criu', 'platform:local', 'probe:redis', ... */
  source: string;
  event: EventName;
  detail?: string;
}

export interface Timeline {
  /** The instant the migration was triggered; t_ms in the CSVs is relative to this. */
  triggerAt: MonotonicMs;
  samples: Sample[];
  events: PhaseEvent[];
}

/** Collects phase events with monotonic timestamps. Passed to strategies and platforms. */
export interface EventRecorder {
  emit(source: string, event: EventName, detail?: string): void;
  /**
   * An event at an earlier instant, known from a component's own timestamp (converted to the
   * monotonic clock) rather than from when this process heard of it. Recorders that keep no
   * timeline may leave it out.
   */
  emitAt?(at: MonotonicMs, source: string, event: EventName, detail?: string): void;
}
