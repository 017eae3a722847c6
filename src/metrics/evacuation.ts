// An evacuation's figures from its pods' results: when the last pod served again, the spread of the
// pods' downtimes, how many failed, the bytes moved. Pure: the same pods always give the same row.
import type { EvacuationSummary } from '../model/evacuation.ts';
import type { TrialResult } from '../model/trial-result.ts';
import { recordsOf } from '../model/trial-result.ts';
import { percentile } from './percentile.ts';
import { isFreshConnectionProbe } from './service-outage.ts';
import { outagesAfterTrigger, type TrialMetrics } from './trial-metrics.ts';

/**
 * Trigger → this pod served again after its move: the later of the strategy reporting it done
 * (migration_ms) and the first successful sample after its last outage that started after the
 * trigger. Undefined when the move never finished or the service never answered again.
 */
export function podServingAgainMs(result: TrialResult): number | undefined {
  const records = recordsOf(result);
  if (!records || records.strategyFinishedAt === undefined) return undefined;
  const trigger = records.timeline.triggerAt;
  // The outages the trial's own downtime is judged on (computeTrialMetrics): the connected probes',
  // each probe's single failed last tick cut off by the end of probing.
  const connected = records.timeline.samples.filter((s) => !isFreshConnectionProbe(s.probe));
  let servingAt = records.strategyFinishedAt;
  for (const outage of outagesAfterTrigger(connected, trigger).afterTrigger) {
    if (outage.firstOkAfterAt === undefined) return undefined;
    servingAt = Math.max(servingAt, outage.firstOkAfterAt);
  }
  return servingAt - trigger;
}

export interface EvacuatedPod {
  result: TrialResult;
  metrics: TrialMetrics;
}

/** The evacuation's row of evacuations.csv from all its pods (each carrying the same membership). */
export function summarizeEvacuation(pods: readonly EvacuatedPod[], targets: readonly string[]): EvacuationSummary {
  const first = pods[0]!.result;
  const membership = first.evacuation!;
  const downtimes = pods.map((p) => p.metrics.downtime_ms).filter((d): d is number => d !== undefined);
  const serving = pods.map((p) => (p.result.status === 'ok' ? podServingAgainMs(p.result) : undefined));
  const allServed = serving.every((s) => s !== undefined);
  return {
    id: membership.id,
    strategy: first.strategy,
    repetition: first.repetition,
    warmup: first.warmup,
    pods: pods.length,
    concurrency: membership.concurrency,
    targets: [...targets],
    ...(allServed && serving.length > 0 ? { totalMs: Math.max(...(serving as number[])) } : {}),
    ...(downtimes.length > 0
      ? { downtimeP50Ms: percentile(downtimes, 50)!, downtimeP99Ms: percentile(downtimes, 99)!, downtimeMaxMs: Math.max(...downtimes) }
      : {}),
    podsFailed: pods.filter((p) => p.result.status !== 'ok').length,
    bytesMoved: pods.reduce((sum, p) => sum + (recordsOf(p.result)?.checkpointBytes ?? 0), 0),
  };
}
