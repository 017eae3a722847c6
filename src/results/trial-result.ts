// What one trial produced: identity, outcome, the raw timeline and the figures strategies and
// workloads reported. Metrics (src/metrics/) are computed from this; writers serialize both.
import type { MonotonicMs } from '../clock.ts';
import type { TrainingObservation } from '../metrics/training.ts';
import type { FrameArrival } from '../metrics/video.ts';
import type { Timeline } from '../timeline.ts';
import type { HostLoad } from '../system/host-load.ts';

/** CRIU's own statistics, from the stats-dump and stats-restore images (CRIU reports µs). */
export interface CriuStats {
  freezingUs?: number;
  frozenUs?: number;
  memdumpUs?: number;
  memwriteUs?: number;
  pagesScanned?: number;
  pagesWritten?: number;
  /** restore_time from stats-restore. */
  restoreUs?: number;
  forkingUs?: number;
  /** The platform's own freeze right before CRIU's (freezer: action-script), measured by the script. */
  harnessFreezeUs?: number;
}

export interface TrialIdentity {
  runId: string;
  /** 1-based, in execution order, across the run (warm-ups included). */
  trial: number;
  workload: string;
  strategy: string;
  /** 1-based within workload × strategy; warm-ups count separately from 1. */
  repetition: number;
  warmup: boolean;
  /** The parameter the scenario sweeps for this workload (e.g. datasetMiB) and this trial's value of it. */
  sweep?: { parameter: string; value: number };
}

export interface TrialResult extends TrialIdentity {
  /** unsupported: the strategy cannot run here (error says why); nothing was deployed or measured. */
  status: 'ok' | 'failed' | 'unsupported';
  /** '' when ok. */
  error: string;
  /** The phase the trial was in when it failed ('' when ok): deploy, prepare, settle, migrate, observe, verify, teardown. */
  failedPhase: string;
  /** Wall-clock start of the trial (label only). */
  startedAt: Date;
  timeline: Timeline;
  probeIntervalMs: number;
  /** True when the trial ran no app probe (a cluster whose pods run no app): the probe columns stay empty. */
  probesSkipped?: boolean;
  /** When the strategy reported it had finished moving the pod (monotonic); undefined if it never did. */
  strategyFinishedAt?: MonotonicMs;
  criu?: CriuStats;
  /** podmigration: `test-double` when migbench's test double of the operator restored the pod (nothing was checkpointed), `real` otherwise. */
  operator?: 'test-double' | 'real';
  /** Total size of the checkpoint images in bytes. */
  checkpointBytes?: number;
  /** What the workload's data set occupied once loaded, as the app reports it (Redis: INFO used_memory). */
  datasetBytes?: number;
  /** Writes the Redis probe saw acknowledged that are missing from the server after the trial. */
  redisAckedWritesLost?: number;
  /** Workload-specific figures from the probes, keyed by trials.csv column (video_*, training_*). */
  workloadMetrics?: Record<string, number>;
  /** Every video frame the video probe received (frames.csv). */
  frames?: FrameArrival[];
  /** Every progress report the training probe received (progress.csv). */
  trainingProgress?: TrainingObservation[];
  /** How busy the host was over the trial (trials.csv host_*); absent for a trial not run. */
  hostLoad?: HostLoad;
}
