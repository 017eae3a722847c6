// What a training job lost to a move, from the progress the training probe observed (pure).
//
// The observations are the training probe's raw records (model/records.ts).
import type { MonotonicMs } from '../model/timeline.ts';
import type { TrainingObservation } from '../model/records.ts';

export interface TrainingMetricOptions {
  /** The trigger (monotonic ms); without it the whole timeline counts as "after". */
  triggerAt?: MonotonicMs;
  /** End of the observation (e.g. when the probe stopped); bounds a stall that never ended. Default: the last observation. */
  endAt?: MonotonicMs;
  /** Length of the rate windows for training_recovery_ms. */
  windowMs?: number;
  /** Share of the pre-trigger rate that counts as recovered. */
  recoveredFraction?: number;
}

export interface TrainingMetrics {
  training_pause_ms?: number;
  training_steps_lost?: number;
  training_recovery_ms?: number;
}

const TRAINING_RATE_WINDOW_MS = 1_000;
const TRAINING_RECOVERED_FRACTION = 0.9;

function processKey(o: TrainingObservation): string {
  return `${o.pid}/${o.processStart}/${o.startedStep}`;
}

/**
 * training_pause_ms: the counter advances at an observation whose step is higher than the previous
 * observation's (any process). A stall runs from one advancing observation to the next (from the
 * first observation showing the stalled value to the first showing a higher one), so an undisturbed
 * job shows stalls of one poll gap and a restarted job stalls until the new process has gone past
 * the step it resumed from, not past the old maximum (redone steps are training_steps_lost). The
 * longest stall that ends after the trigger counts (one that began before it included); a stall
 * still open at the end is counted up to `endAt`. Undefined with no observation.
 *
 * training_steps_lost: at each change of process after the trigger, the highest step the previous
 * process was seen at minus the step the new process resumed from (≥ 0), summed over changes. 0 when
 * one process reported throughout (e.g. CRIU restore). Undefined with no observation after the trigger.
 *
 * training_recovery_ms: baseline = step rate over the windowMs before the trigger. From the trigger on,
 * each observation starts a window of windowMs; its rate counts step increases between consecutive
 * observations of the same process inside it (redone steps are throughput too) over windowMs.
 * Recovery = the start of the first window whose rate is ≥ recoveredFraction × baseline, minus the
 * trigger. Undefined without a trigger, without observations covering the baseline window, or if no
 * window (fully covered by observations) recovers.
 */
export function computeTrainingMetrics(observations: readonly TrainingObservation[], options: TrainingMetricOptions = {}): TrainingMetrics {
  const obs = [...observations].sort((a, b) => a.at - b.at);
  const result: TrainingMetrics = {};
  if (obs.length === 0) return result;
  const triggerAt = options.triggerAt ?? Number.NEGATIVE_INFINITY;
  const windowMs = options.windowMs ?? TRAINING_RATE_WINDOW_MS;
  const fraction = options.recoveredFraction ?? TRAINING_RECOVERED_FRACTION;

  // --- pause
  let stallStart = obs[0]!.at;
  let longest: number | undefined;
  for (let i = 1; i < obs.length; i++) {
    if (obs[i]!.step > obs[i - 1]!.step) {
      if (obs[i]!.at > triggerAt) longest = Math.max(longest ?? 0, obs[i]!.at - stallStart);
      stallStart = obs[i]!.at;
    }
  }
  const endAt = Math.max(options.endAt ?? obs[obs.length - 1]!.at, obs[obs.length - 1]!.at);
  if (endAt > triggerAt && endAt > stallStart) longest = Math.max(longest ?? 0, endAt - stallStart);
  if (longest === undefined && obs[obs.length - 1]!.at >= triggerAt) longest = 0;
  if (longest !== undefined) result.training_pause_ms = longest;

  // --- steps lost
  const firstAfter = obs.findIndex((o) => o.at >= triggerAt);
  if (firstAfter >= 0) {
    let lost = 0;
    let currentKey = processKey(obs[0]!);
    let currentMax = obs[0]!.step;
    for (let i = 1; i < obs.length; i++) {
      const o = obs[i]!;
      const key = processKey(o);
      if (key === currentKey) {
        currentMax = Math.max(currentMax, o.step);
        continue;
      }
      if (o.at >= triggerAt) lost += Math.max(0, currentMax - o.startedStep);
      currentKey = key;
      currentMax = o.step;
    }
    result.training_steps_lost = lost;
  }

  // --- recovery
  if (options.triggerAt !== undefined) {
    const baseline = windowRate(obs, options.triggerAt - windowMs, options.triggerAt);
    if (baseline !== undefined && baseline > 0) {
      for (let j = 0; j < obs.length; j++) {
        const start = obs[j]!.at;
        if (start < options.triggerAt) continue;
        const rate = windowRate(obs, start, start + windowMs);
        if (rate !== undefined && rate >= fraction * baseline) {
          result.training_recovery_ms = start - options.triggerAt;
          break;
        }
      }
    }
  }
  return result;
}

/**
 * Steps per ms in [from, to]: step increases between consecutive observations of the same process,
 * both inside the window, over the window's length (a gap without observations counts as no
 * progress). Undefined when the observations do not reach both ends of the window.
 */
function windowRate(obs: readonly TrainingObservation[], from: number, to: number): number | undefined {
  if (obs.length === 0 || obs[0]!.at > from || obs[obs.length - 1]!.at < to) return undefined;
  let steps = 0;
  let previous: TrainingObservation | undefined;
  for (const o of obs) {
    if (o.at < from) continue;
    if (o.at > to) break;
    if (previous && processKey(previous) === processKey(o)) steps += Math.max(0, o.step - previous.step);
    previous = o;
  }
  return steps / (to - from);
}
