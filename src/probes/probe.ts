// A probe measures the service from a client's point of view while a pod moves. It only records
// samples; what they mean (downtime, ...) is computed afterwards from the samples alone.
import type { TrainingObservation } from '../metrics/training.ts';
import type { FrameArrival } from '../metrics/video.ts';
import type { PhaseEvent, Sample } from '../timeline.ts';

export interface ProbeFindings {
  /** Writes acknowledged to the client that the server no longer has after the trial. */
  redisAckedWritesLost?: number;
  /** Workload-specific figures, keyed by their trials.csv column (see metricColumnDocs), e.g. video_frames_lost. */
  metrics?: Record<string, number>;
}

/** The instants of the trial a probe's findings are relative to (monotonic ms). */
export interface TrialMoments {
  triggerAt?: number;
  strategyFinishedAt?: number;
}

/**
 * What a probe observed besides its samples, kept raw in the results (frames.csv, progress.csv,
 * events.csv), also when the trial failed — nothing measured is thrown away.
 */
export interface ProbeRecords {
  frames?: readonly FrameArrival[];
  trainingProgress?: readonly TrainingObservation[];
  /** Things the client noticed (e.g. a broken stream), as timeline events with source probe:<name>. */
  events?: readonly PhaseEvent[];
}

export interface Probe {
  readonly name: string;
  /** Connects and starts ticking; resolves once the first tick is scheduled. */
  start(): Promise<void>;
  /** Stops ticking, waits for outstanding requests (bounded by their timeout) and hands back every sample. */
  stop(): Promise<Sample[]>;
  /** After stop: checks the service's state against what the probe saw acknowledged. */
  verify?(moments: TrialMoments): Promise<ProbeFindings>;
  /** After stop: the raw observations behind the findings. */
  records?(): ProbeRecords;
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
