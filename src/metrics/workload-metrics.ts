// The workload's own trials.csv figures (video_*, training_*, connections_broken), computed after
// the trial from what its probe recorded (model/records.ts), pure. Only a trial that checked the
// service after the move has them (the caller decides: trial-metrics.ts).
import type { ProbeRecords } from '../model/records.ts';
import type { MonotonicMs } from '../model/timeline.ts';
import { computeTrainingMetrics } from './training.ts';
import { computeVideoMetrics } from './video.ts';

export type WorkloadMetrics = Record<string, number>;

/** One probe's figures, keyed by trials.csv column; a figure that could not be measured is absent. */
export function probeMetrics(records: ProbeRecords, triggerAt: MonotonicMs): WorkloadMetrics {
  switch (records.probe) {
    case 'redis':
      return { connections_broken: records.connectionsClosed };
    case 'video': {
      const figures = computeVideoMetrics(records.frames, records.breaks, {
        fps: records.fps,
        playerBufferMs: records.playerBufferMs,
        triggerAt,
        ...(records.stoppedAt !== undefined ? { endAt: records.stoppedAt } : {}),
      });
      // A break of a stream that never delivered a frame is a failed attempt, not a lost connection.
      return { ...defined(figures), connections_broken: records.breaks.filter((b) => b.deliveredFrames).length };
    }
    case 'training': {
      const lastObservationAt = records.progress.reduce((m, o) => Math.max(m, o.at), Number.NEGATIVE_INFINITY);
      return defined(
        computeTrainingMetrics(records.progress, {
          triggerAt,
          // A stall still open when probing stopped counts up to the last tick that could have seen progress.
          ...(records.stoppedAt !== undefined ? { endAt: Math.max(records.stoppedAt, lastObservationAt) } : {}),
        }),
      );
    }
  }
}

/** Every probe's figures; a later probe's figure wins a column two probes share. */
export function workloadMetrics(records: readonly ProbeRecords[], triggerAt: MonotonicMs): WorkloadMetrics {
  return Object.assign({}, ...records.map((r) => probeMetrics(r, triggerAt))) as WorkloadMetrics;
}

function defined(figures: object): WorkloadMetrics {
  const out: WorkloadMetrics = {};
  for (const [key, value] of Object.entries(figures) as [string, number | undefined][]) if (value !== undefined) out[key] = value;
  return out;
}
