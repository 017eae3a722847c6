// The workload's trials.csv figures are computed after the trial from the probes' raw records
// (src/metrics/workload-metrics.ts), and only for a trial that checked the service after the move.
import { describe, expect, it } from 'vitest';
import { computeTrialMetrics } from '../../src/metrics/trial-metrics.ts';
import { probeMetrics, workloadMetrics } from '../../src/metrics/workload-metrics.ts';
import type { TrainingRecords, VideoRecords } from '../../src/model/records.ts';
import type { OkTrial } from '../../src/model/trial-result.ts';

const T = 10_000;
const FPS = 25;

/** A stream at 25 fps from t = −1000 with no frame in [0, 400): 10 frames of one epoch lost, one connection broken. */
function video(): VideoRecords {
  const frames = [];
  for (let i = 0; i < 75; i++) {
    const t = -1000 + i * 40;
    if (t >= 0 && t < 400) continue;
    frames.push({ at: T + t + 5, connection: t < 0 ? 0 : 1, epoch: 1, seq: i, serverTsUs: 1e12 + (1000 + t) * 1000 });
  }
  return {
    probe: 'video',
    fps: FPS,
    playerBufferMs: 200,
    frames,
    breaks: [
      { at: T + 100, connection: 0, deliveredFrames: true, reason: 'eof' },
      { at: T + 200, connection: 1, deliveredFrames: false, reason: 'ECONNREFUSED' },
    ],
    stoppedAt: T + 2000,
  };
}

function training(): TrainingRecords {
  // One step per 10 ms; the process restarts at t = 500 from step 0 (a fresh pod).
  const progress = [];
  for (let t = -1500; t <= 2000; t += 10) {
    progress.push(
      t < 500
        ? { at: T + t, step: (t + 1500) / 10, startedStep: 0, pid: 7, processStart: 1 }
        : { at: T + t, step: (t - 500) / 10, startedStep: 0, pid: 9, processStart: 2 },
    );
  }
  return { probe: 'training', progress, stoppedAt: T + 2000 };
}

describe('probeMetrics', () => {
  it('redis: its broken connections', () => {
    expect(probeMetrics({ probe: 'redis', connectionsClosed: 2 }, T)).toEqual({ connections_broken: 2 });
  });

  it('video: the stream figures, and only breaks of connections that had delivered frames', () => {
    expect(probeMetrics(video(), T)).toEqual({
      video_max_stall_ms: 440,
      video_frames_lost: 10,
      video_reconnect_ms: 305,
      video_rebuffer_ms: 240,
      connections_broken: 1,
    });
  });

  it('training: the pause and the steps the new process redid', () => {
    const figures = probeMetrics(training(), T);
    expect(figures.training_steps_lost).toBe(199);
    // The counter drops at t = 500 and advances again at 510: a stall of two poll gaps (490 → 510).
    expect(figures.training_pause_ms).toBe(20);
  });

  it('every probe of the trial, together', () => {
    expect(workloadMetrics([{ probe: 'redis', connectionsClosed: 0 }, training()], T)).toMatchObject({ connections_broken: 0, training_steps_lost: 199 });
  });
});

describe('computeTrialMetrics', () => {
  const trial = (extra: Partial<OkTrial>): OkTrial => ({
    runId: 'r',
    trial: 1,
    workload: 'video',
    strategy: 'criu',
    repetition: 1,
    warmup: false,
    status: 'ok',
    startedAt: new Date(0),
    timeline: { triggerAt: T, samples: [], events: [] },
    probeIntervalMs: 10,
    probeRecords: [video()],
    ...extra,
  });

  it("writes the workload's figures once the service was checked after the move", () => {
    expect(computeTrialMetrics(trial({ verification: {} })).metrics).toMatchObject({ video_frames_lost: 10, connections_broken: 1 });
  });

  it('leaves them empty for a trial that never got to check the service (its records are still written)', () => {
    const { metrics } = computeTrialMetrics(trial({}));
    for (const column of [
      'video_max_stall_ms',
      'video_frames_lost',
      'video_reconnect_ms',
      'video_rebuffer_ms',
      'connections_broken',
      'redis_acked_writes_lost',
    ] as const) {
      expect(metrics[column], column).toBeUndefined();
    }
  });
});
