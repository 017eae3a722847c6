// The training metrics on hand-made progress timelines whose answers are known. Times in ms; the
// probe observes every POLL ms; steps advance at a known rate.
import { describe, expect, it } from 'vitest';
import { computeTrainingMetrics } from '../../src/metrics/training.ts';
import type { TrainingObservation } from '../../src/model/records.ts';

const A = { pid: 1, processStart: 1_700_000_000.5, startedStep: 0 };

/** Observations every `poll` ms in [from, to] of a process whose step at time t is step(t). */
function observe(
  from: number,
  to: number,
  poll: number,
  step: (t: number) => number,
  proc: Omit<TrainingObservation, 'at' | 'step'> = A,
): TrainingObservation[] {
  const out: TrainingObservation[] = [];
  for (let t = from; t <= to; t += poll) out.push({ at: t, step: step(t), ...proc });
  return out;
}

describe('computeTrainingMetrics', () => {
  it('an undisturbed job: pause is one poll gap, nothing lost, recovered at once', () => {
    const obs = observe(0, 4000, 50, (t) => t / 5); // 0.2 steps/ms
    const m = computeTrainingMetrics(obs, { triggerAt: 2000 });
    expect(m.training_pause_ms).toBe(50);
    expect(m.training_steps_lost).toBe(0);
    expect(m.training_recovery_ms).toBe(0);
  });

  it('a CRIU-like freeze of 500 ms, same process: pause = freeze + one poll gap, nothing lost', () => {
    // Frozen from 2000 to 2500: no answers in between (the HTTP server is frozen too), the step stays.
    const step = (t: number) => (t <= 2000 ? t / 5 : t <= 2500 ? 400 : 400 + (t - 2500) / 5);
    const obs = [...observe(0, 2000, 50, step), ...observe(2500, 5000, 50, step)];
    const m = computeTrainingMetrics(obs, { triggerAt: 2000 });
    // Last new value seen at 2000, first higher one at 2550: the freeze measured to one poll gap.
    expect(m.training_pause_ms).toBe(550);
    expect(m.training_steps_lost).toBe(0);
    // Window [2000, 3000] holds 100 steps (half the rate); [2500, 3500] the full 200.
    expect(m.training_recovery_ms).toBe(500);
  });

  it('answers that go on during the stall do not shorten it', () => {
    const step = (t: number) => (t <= 2000 ? t / 5 : t <= 2500 ? 400 : 400 + (t - 2500) / 5);
    const m = computeTrainingMetrics(observe(0, 5000, 50, step), { triggerAt: 2000 });
    expect(m.training_pause_ms).toBe(550);
    expect(m.training_steps_lost).toBe(0);
  });

  it('a restart resuming from step 100 after step 137: 37 steps lost, pause until the new process advances', () => {
    // Old process: 0.1 steps/ms, still running after the trigger (grace period) until step 137.
    const before = observe(0, 1370, 10, (t) => t / 10);
    // New process (new process_start, resumed from the save at step 100) answers from 3000 on.
    const B = { pid: 1, processStart: 1_700_000_010.25, startedStep: 100 };
    const after = observe(3000, 5000, 10, (t) => 100 + (t - 3000) / 10, B);
    const m = computeTrainingMetrics([...before, ...after], { triggerAt: 1000 });
    expect(m.training_steps_lost).toBe(37);
    // Last advance at 1370 (step 137); 3000 shows 100 (not an advance); 3010 shows 101.
    expect(m.training_pause_ms).toBe(1640);
    // Baseline 0.1/ms; [1000, 2000] has 37 steps; the first full-rate window starts at 3000.
    expect(m.training_recovery_ms).toBe(2000);
  });

  it('steps lost sum over several restarts, each against the process it replaced', () => {
    const p = (processStart: number, startedStep: number) => ({ pid: 7, processStart, startedStep });
    const obs = [
      ...observe(0, 1000, 100, (t) => t / 10, p(1, 0)), // up to step 100
      ...observe(2000, 2500, 100, (t) => 90 + (t - 2000) / 10, p(2, 90)), // resumes at 90 (10 lost), reaches 140
      ...observe(3500, 4000, 100, (t) => 120 + (t - 3500) / 10, p(3, 120)), // resumes at 120 (20 lost)
    ];
    expect(computeTrainingMetrics(obs, { triggerAt: 500 }).training_steps_lost).toBe(30);
  });

  it('recovery time is exact for a constructed rate curve', () => {
    // 0.1 steps/ms before the trigger at 2000, 0.02 steps/ms in [2000, 3000], 0.1 again after.
    const step = (t: number) => (t <= 2000 ? t / 10 : t <= 3000 ? 200 + (t - 2000) / 50 : 220 + (t - 3000) / 10);
    const m = computeTrainingMetrics(observe(0, 6000, 100, step), { triggerAt: 2000 });
    // Window starting at j ∈ [2000, 3000] holds 0.02(3000 − j) + 0.1(j − 2000) steps = 0.08j − 140:
    // 84 at j = 2800 (< 90 % of 100), 92 at j = 2900.
    expect(m.training_recovery_ms).toBe(900);
    expect(m.training_pause_ms).toBe(100);
    expect(m.training_steps_lost).toBe(0);
  });

  it('a job that never trains again: pause runs to the end of observation, no recovery', () => {
    const obs = observe(0, 2000, 50, (t) => t / 5);
    const m = computeTrainingMetrics(obs, { triggerAt: 1500, endAt: 6000 });
    expect(m.training_pause_ms).toBe(4000);
    expect(m.training_recovery_ms).toBeUndefined();
    expect(m.training_steps_lost).toBe(0);
  });

  it('no observations: nothing defined; stalls before the trigger do not count', () => {
    expect(computeTrainingMetrics([], { triggerAt: 0 })).toEqual({});
    const step = (t: number) => (t <= 500 ? t / 5 : t <= 1000 ? 100 : 100 + (t - 1000) / 5);
    const obs = [...observe(0, 500, 50, step), ...observe(1000, 4000, 50, step)];
    expect(computeTrainingMetrics(obs, { triggerAt: 2000 }).training_pause_ms).toBe(50);
  });

  it('recovery is undefined without observations covering the baseline window', () => {
    const obs = observe(1500, 4000, 50, (t) => t / 5);
    expect(computeTrainingMetrics(obs, { triggerAt: 2000 }).training_recovery_ms).toBeUndefined();
  });
});
