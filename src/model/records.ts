// What each workload's probe records besides its samples, raw: handed back when the probe stops,
// kept in the results (frames.csv, progress.csv) also when the trial failed, and turned into the
// workload's trials.csv figures after the trial by pure functions (metrics/workload-metrics.ts).
import type { MonotonicMs } from './timeline.ts';

/**
 * One frame fully received by the video probe's stream client: when, on which connection, and the
 * frame's identity from its header (the server's epoch — one per server process —, sequence number
 * and production time). A CRIU restore keeps the epoch and continues the sequence; a fresh pod starts
 * a new epoch at 0.
 */
export interface FrameArrival {
  /** When the frame's last byte arrived (monotonic ms). */
  at: MonotonicMs;
  /** The client's connection it came on, numbered from 0 in the order they were opened. */
  connection: number;
  /** The server process's stream epoch (CLOCK_REALTIME µs of its start). */
  epoch: number;
  seq: number;
  /** CLOCK_REALTIME µs at which the server produced the frame. */
  serverTsUs: number;
}

/** The client noticing that a connection ended: EOF, error, or no frame for its stall timeout. */
export interface StreamBreak {
  at: MonotonicMs;
  connection: number;
  /** Whether that connection had delivered frames (a failed reconnect attempt had not). */
  deliveredFrames: boolean;
  /** How it ended: eof, stall, HTTP <status>, or the error's code (for diagnosis; not used by the metrics). */
  reason?: string;
}

/**
 * One successful GET /progress of the training probe: the step counter when the answer arrived, and
 * which process reported it. A process is identified by (pid, process_start, started_step): a CRIU
 * restore keeps all three (the same process continues), a fresh pod has a new process_start and
 * resumes from its last save (started_step).
 */
export interface TrainingObservation {
  /** When the answer arrived (monotonic ms). */
  at: MonotonicMs;
  step: number;
  /** The step the reporting process resumed from (0 for a fresh start). */
  startedStep: number;
  pid: number;
  /** CLOCK_REALTIME seconds at which the reporting process started. */
  processStart: number;
}

/** The Redis probe: how many of its established connections ended while it was probing. */
export interface RedisRecords {
  probe: 'redis';
  connectionsClosed: number;
}

/** The video probe: the player's settings, every frame it received and every break of its stream. */
export interface VideoRecords {
  probe: 'video';
  fps: number;
  playerBufferMs: number;
  frames: FrameArrival[];
  breaks: StreamBreak[];
  /** When the probe stopped: bounds a stall that never ended. */
  stoppedAt?: MonotonicMs;
}

/** The training probe: every progress report it received. */
export interface TrainingRecords {
  probe: 'training';
  progress: TrainingObservation[];
  /** When the probe stopped: bounds a pause that never ended. */
  stoppedAt?: MonotonicMs;
}

export type ProbeRecords = RedisRecords | VideoRecords | TrainingRecords;

/**
 * What the probes found when they asked the service once the move was over (the verify phase, or
 * after a failed move that left the service served).
 */
export interface Verification {
  /** Writes the Redis probe saw acknowledged that the server no longer has. */
  redisAckedWritesLost?: number;
}
