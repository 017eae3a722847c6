// What one trial produced: its identity, its outcome — a union keyed by `status`, final once the
// runner has judged it (runner/trial.ts) — and, for a trial that ran, the raw records: the timeline,
// what the probes recorded and the figures the strategy and the workload reported. Metrics
// (src/metrics/) are computed from this; the writers (src/results/) serialize both.
import type { CriuStats } from './criu-stats.ts';
import type { EvacuationMembership, EvacuationSummary } from './evacuation.ts';
import type { TrialPhase } from './events.ts';
import type { ProbeRecords, Verification } from './records.ts';
import type { MonotonicMs, Timeline } from './timeline.ts';
import type { HostLoad } from './host-load.ts';

/** dump and restore: CRIU's two steps; transfer and image: kubelet-checkpoint's steps between them. */
export type MigrationStep = 'dump' | 'transfer' | 'image' | 'restore';

/** Where a failed trial failed: its phase, or for a migration the step of `migrate` that failed. */
export type FailedPhase = TrialPhase | MigrationStep;

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
  /** The evacuation this trial's pod was moved in (an `evacuate:` scenario); absent for a single-pod trial. */
  evacuation?: EvacuationMembership;
}

/** What a trial that ran recorded, whatever its outcome (nothing measured is thrown away). */
export interface TrialRecords {
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
  /** What each probe recorded besides its samples (frames.csv, progress.csv, the workload's columns). */
  probeRecords: ProbeRecords[];
  /** Absent when the trial never got to check the service after the move: its workload columns stay empty. */
  verification?: Verification;
  /** How busy the host was over the trial (trials.csv host_*); the runner measures it around the trial. */
  hostLoad?: HostLoad;
  /** The last pod of an evacuation carries the evacuation's figures (evacuations.csv). */
  evacuationSummary?: EvacuationSummary;
}

export interface OkTrial extends TrialIdentity, TrialRecords {
  status: 'ok';
}

/** A failed trial still has everything it recorded up to (and after) its failure. */
export interface FailedTrial extends TrialIdentity, TrialRecords {
  status: 'failed';
  failedPhase: FailedPhase;
  /** Why, in one line. */
  error: string;
}

/** The strategy cannot run on this host (error says why): nothing was deployed or measured. */
export interface UnsupportedTrial extends TrialIdentity {
  status: 'unsupported';
  error: string;
  startedAt: Date;
  probeIntervalMs: number;
}

/** A trial that ran (whatever its outcome). */
export type RanTrial = OkTrial | FailedTrial;

export type TrialResult = RanTrial | UnsupportedTrial;

/** The records of a trial that ran; undefined for one that never started (unsupported). */
export function recordsOf(result: TrialResult): TrialRecords | undefined {
  return result.status === 'unsupported' ? undefined : result;
}
