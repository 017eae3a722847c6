// One row of figures per trial, computed only from what the trial recorded (its timeline and the
// numbers CRIU and the probes reported). Pure: the same TrialResult always gives the same row, so
// a test can check every definition on a hand-made timeline.
import type { EventName } from '../model/events.ts';
import type { Sample } from '../model/timeline.ts';
import type { TrialRecords, TrialResult } from '../model/trial-result.ts';
import { findOutages, outageDuration, outageUpperBound, type Outage } from './downtime.ts';
import { percentile } from './percentile.ts';
import { anatomyColumnDocs, downtimeAnatomy, migrationSegments } from './anatomy.ts';
import { checkpointPhaseColumnDocs, checkpointPhases } from './checkpoint-phases.ts';
import { workloadMetrics } from './workload-metrics.ts';
import { isFreshConnectionProbe, serviceOutageColumns, serviceOutageMetrics, type ServiceOutageColumn } from './service-outage.ts';

export interface ColumnDoc {
  unit: string;
  description: string;
}

/** Every metric column, in the order trials.csv writes them, with its unit and meaning. */
export const metricColumnDocs = {
  downtime_ms: {
    unit: 'ms',
    description:
      'longest outage after the trigger: start of its first failed probe sample → start of the first successful sample after it (0 when no sample failed); accurate to ± probe_interval_ms',
  },
  downtime_upper_ms: {
    unit: 'ms',
    description:
      'the same outage from the start of the last successful sample before it → start of the first successful sample after it: the most it can have lasted',
  },
  outages: {
    unit: 'count',
    description: 'outages (maximal runs of consecutive failed samples of one probe) that began at or after the trigger or were still going on at it',
  },
  failed_samples: { unit: 'count', description: 'probe samples scheduled at or after the trigger that failed' },
  baseline_failed_samples: {
    unit: 'count',
    description: 'probe samples before the trigger that failed (should be 0; anything else means the baseline was not healthy)',
  },
  samples: { unit: 'count', description: 'probe samples in the trial (before and after the trigger)' },
  probe_interval_ms: { unit: 'ms', description: 'open-loop tick interval of the probe: the resolution of downtime_ms' },
  migration_ms: { unit: 'ms', description: 'trigger → the strategy reported the pod moved (service switched, source gone)' },
  pod_scheduled_ms: {
    unit: 'ms',
    description:
      'trigger → this client received the watch update showing the moved pod bound to a node (the first pod scheduled after the trigger; kubernetes only)',
  },
  pod_ready_ms: {
    unit: 'ms',
    description: 'trigger → this client received the watch update showing the moved pod Ready (the first pod ready after the trigger; kubernetes only)',
  },
  latency_p50_ms: { unit: 'ms', description: 'median latency of successful samples before the trigger (baseline), from when each was due' },
  latency_p99_ms: { unit: 'ms', description: '99th percentile latency of successful samples before the trigger (baseline)' },
  latency_after_p99_ms: { unit: 'ms', description: '99th percentile latency of successful samples after the strategy finished (the moved pod)' },
  send_lag_p99_ms: {
    unit: 'ms',
    description: "99th percentile of (sent − due) over all samples: the probe's own scheduling lag; large values mean the host, not the service, was slow",
  },
  criu_freezing_ms: { unit: 'ms', description: 'CRIU stats-dump freezing_time: time to freeze the pod (criu strategies and kubelet-checkpoint)' },
  criu_frozen_ms: {
    unit: 'ms',
    description: 'CRIU stats-dump frozen_time: how long the pod stayed frozen while dumped (criu strategies and kubelet-checkpoint)',
  },
  criu_memdump_ms: { unit: 'ms', description: 'CRIU stats-dump memdump_time: collecting memory pages (criu strategies and kubelet-checkpoint)' },
  criu_memwrite_ms: {
    unit: 'ms',
    description: 'CRIU stats-dump memwrite_time: writing pages to the checkpoint store (criu strategies and kubelet-checkpoint)',
  },
  criu_restore_ms: { unit: 'ms', description: 'CRIU stats-restore restore_time (criu only)' },
  criu_pages_written: { unit: 'pages (4 KiB)', description: 'CRIU stats-dump pages_written (criu strategies and kubelet-checkpoint)' },
  checkpoint_bytes: {
    unit: 'bytes',
    description: 'total size of the checkpoint images in the shared store (criu; kubelet-checkpoint: the archive the kubelet wrote)',
  },
  ...checkpointPhaseColumnDocs,
  connections_broken: {
    unit: 'count',
    description:
      "times a probe's persistent connection (the Redis probe's, the video stream) ended while probing after it had worked; 0 means clients kept their connections through the move (criu ip: preserve)",
  },
  redis_acked_writes_lost: { unit: 'count', description: 'writes the Redis probe saw acknowledged that the server no longer has after the trial (redis only)' },
  video_max_stall_ms: {
    unit: 'ms',
    description:
      'longest gap between two frames arriving at the video client that ends after the trigger; a gap still open counts to the end of probing (video only)',
  },
  video_frames_lost: {
    unit: 'count',
    description:
      'frames of content the client never received after the trigger: gaps in the sequence numbers, and across a new server process the frames the source produced in between (video only)',
  },
  video_reconnect_ms: {
    unit: 'ms',
    description:
      'stream break noticed (EOF, error or stall timeout) → first frame on a new connection; the longest such episode after the trigger, 0 when the stream never broke (video only)',
  },
  video_rebuffer_ms: {
    unit: 'ms',
    description: 'time after the trigger in which a simulated player (buffer: the workload playerBufferMs) shows a frozen picture (video only)',
  },
  training_pause_ms: { unit: 'ms', description: 'longest time, from the trigger on, in which the training step counter did not advance (ml-training only)' },
  training_steps_lost: {
    unit: 'count',
    description: 'steps done before the move that had to be redone after it (resumed from an older save) (ml-training only)',
  },
  training_recovery_ms: { unit: 'ms', description: 'trigger → throughput back to 90 % of its rate before the trigger (ml-training only)' },
  ...anatomyColumnDocs,
} as const satisfies Record<string, ColumnDoc>;

/** The columns trials.csv writes in the middle (metricColumns), and the service-outage ones it writes last. */
export type MetricColumn = keyof typeof metricColumnDocs | ServiceOutageColumn;
export const metricColumns = Object.keys(metricColumnDocs) as MetricColumn[];
/** Every metric a comparison can judge: the middle columns and the ones added at the end of trials.csv. */
export const comparableMetricColumns: MetricColumn[] = [...metricColumns, ...serviceOutageColumns];

/** A trial's figures; a column is absent when it does not apply or could not be measured (empty in the CSV). */
export type TrialMetrics = Partial<Record<MetricColumn, number>>;

export interface ComputedMetrics {
  metrics: TrialMetrics;
  /** False when an outage after the trigger never ended within the observation window. */
  recovered: boolean;
  /** The first outage that never ended, for the failed trial's error: which probe, from when (ms after the trigger), how. */
  unrecovered?: { probe: string; fromMs: number; failedSamples: number; error: string };
}

const usToMs = (us: number | undefined) => (us === undefined ? undefined : us / 1000);
const sinceTrigger = (at: number | undefined, trigger: number) => (at === undefined ? undefined : at - trigger);

/** What an unsupported trial measured: nothing — its row has the probe counts at 0 like any trial with no samples. */
const nothingRecorded = (probeIntervalMs: number): TrialRecords => ({
  startedAt: new Date(0),
  timeline: { triggerAt: 0, samples: [], events: [] },
  probeIntervalMs,
  probeRecords: [],
});

/**
 * Each probe's outages that belong to the migration (those after the trigger, and one in progress at
 * it), the probe's single failed last tick left out (cut off by the end of probing, not a service
 * that never came back); and the first that never ended, for the failed trial's error. The connected
 * probes' samples only: the caller filters out the fresh-connection probes.
 */
export function outagesAfterTrigger(samples: readonly Sample[], trigger: number): { afterTrigger: Outage[]; unrecovered?: ComputedMetrics['unrecovered'] } {
  // Each probe has its own outages (a second probe's success must not end the first one's outage).
  const byProbe = new Map<string, Sample[]>();
  for (const s of samples) {
    // Pushed, not copied: copying the list per sample is quadratic (~40 s for a long trial's 100k samples).
    const list = byProbe.get(s.probe);
    if (list) list.push(s);
    else byProbe.set(s.probe, [s]);
  }
  const afterTrigger: Outage[] = [];
  let unrecovered: ComputedMetrics['unrecovered'];
  for (const [probe, own] of byProbe) {
    const lastScheduledAt = own.reduce((last, x) => Math.max(last, x.scheduledAt), -Infinity);
    // The probe's last sample alone failing is cut off by the end of probing, not a service that never
    // came back: no later sample could show it answering again (seen once in CI: one 10 ms poll timed
    // out on the final tick, 3 s after the move had recovered). Two or more failed samples at the end
    // still count as not recovered. Its failed sample stays in failed_samples.
    const cutOffByTheEnd = (o: Outage) =>
      o.firstOkAfterAt === undefined &&
      o.failedSamples === 1 &&
      o.lastFailedAt === lastScheduledAt &&
      o.lastOkBeforeAt !== undefined &&
      o.lastOkBeforeAt > trigger;
    // An outage in progress at the trigger belongs to the migration too (it ends after it).
    const outages = findOutages(own)
      .filter((o) => o.lastFailedAt >= trigger || o.firstOkAfterAt === undefined || o.firstOkAfterAt > trigger)
      .filter((o) => !cutOffByTheEnd(o));
    afterTrigger.push(...outages);
    const never = outages.find((o) => o.firstOkAfterAt === undefined);
    if (never && unrecovered === undefined) {
      const first = own.find((x) => x.scheduledAt === never.firstFailedAt);
      unrecovered = { probe, fromMs: never.firstFailedAt - trigger, failedSamples: never.failedSamples, error: first?.error || 'failed' };
    }
  }
  return { afterTrigger, ...(unrecovered ? { unrecovered } : {}) };
}

export function computeTrialMetrics(trial: TrialResult): ComputedMetrics {
  const result = trial.status === 'unsupported' ? nothingRecorded(trial.probeIntervalMs) : trial;
  // The fresh-connection probes' samples feed only the service_* columns (service-outage.ts); every
  // other figure is the connected probes', as before they existed.
  const timeline = { ...result.timeline, samples: result.timeline.samples.filter((s) => !isFreshConnectionProbe(s.probe)) };
  const trigger = timeline.triggerAt;
  const m: TrialMetrics = {};
  const set = (column: MetricColumn, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) m[column] = value;
  };

  const { afterTrigger, unrecovered: unrecoveredOutage } = outagesAfterTrigger(timeline.samples, trigger);
  const unrecovered = afterTrigger.some((o) => o.firstOkAfterAt === undefined);
  let recovered = !unrecovered;
  if (timeline.samples.length > 0 && !unrecovered) {
    const longest = afterTrigger.reduce<Outage | undefined>(
      (best, o) => (best === undefined || outageDuration(o)! > outageDuration(best)! ? o : best),
      undefined,
    );
    set('downtime_ms', longest ? outageDuration(longest) : 0);
    set('downtime_upper_ms', longest ? outageUpperBound(longest) : 0);
    // Where that outage went (src/metrics/anatomy.ts): no outage, nothing to split.
    const parts = longest
      ? downtimeAnatomy(migrationSegments(timeline.events, trigger, result.criu), longest.firstFailedAt, longest.firstOkAfterAt!)
      : undefined;
    for (const column of Object.keys(anatomyColumnDocs) as (keyof typeof anatomyColumnDocs)[]) set(column, parts ? parts[column] : 0);
  }
  // No app probe ran (a simulated cluster): nothing was measured from the service's side, so its
  // columns stay empty rather than 0, and the service's recovery cannot be judged.
  if (result.probesSkipped) recovered = true;
  else {
    if (timeline.samples.length === 0) recovered = false;
    set('outages', afterTrigger.length);
    set('failed_samples', timeline.samples.filter((s) => !s.ok && s.scheduledAt >= trigger).length);
    set('baseline_failed_samples', timeline.samples.filter((s) => !s.ok && s.scheduledAt < trigger).length);
    set('samples', timeline.samples.length);
    set('probe_interval_ms', result.probeIntervalMs);
  }
  set('migration_ms', result.strategyFinishedAt === undefined ? undefined : result.strategyFinishedAt - trigger);
  // The pod watch's receive times (platform:kubernetes events): the source pod was scheduled and
  // ready before the trigger, so the first such event after it belongs to the moved pod.
  const firstPodEventAfterTrigger = (event: EventName) => {
    const times = timeline.events.filter((e) => e.source === 'platform:kubernetes' && e.event === event && e.at >= trigger).map((e) => e.at);
    return times.length > 0 ? Math.min(...times) : undefined;
  };
  set('pod_scheduled_ms', sinceTrigger(firstPodEventAfterTrigger('pod_scheduled'), trigger));
  set('pod_ready_ms', sinceTrigger(firstPodEventAfterTrigger('pod_ready'), trigger));

  const latency = (s: Sample) => s.doneAt - s.scheduledAt;
  const baseline = timeline.samples.filter((s) => s.ok && s.scheduledAt < trigger).map(latency);
  set('latency_p50_ms', percentile(baseline, 50));
  set('latency_p99_ms', percentile(baseline, 99));
  if (result.strategyFinishedAt !== undefined) {
    const finished = result.strategyFinishedAt;
    set('latency_after_p99_ms', percentile(timeline.samples.filter((s) => s.ok && s.scheduledAt >= finished).map(latency), 99));
  }
  set(
    'send_lag_p99_ms',
    percentile(
      timeline.samples.map((s) => s.sentAt - s.scheduledAt),
      99,
    ),
  );

  const criu = result.criu;
  set('criu_freezing_ms', usToMs(criu?.freezingUs));
  set('criu_frozen_ms', usToMs(criu?.frozenUs));
  set('criu_memdump_ms', usToMs(criu?.memdumpUs));
  set('criu_memwrite_ms', usToMs(criu?.memwriteUs));
  set('criu_restore_ms', usToMs(criu?.restoreUs));
  set('criu_pages_written', criu?.pagesWritten);
  set('checkpoint_bytes', result.checkpointBytes);
  for (const [column, value] of Object.entries(checkpointPhases(timeline.events))) set(column as MetricColumn, value);
  // The workload's figures need the service checked after the move (verify), as a trial that
  // failed before it has no end to its story.
  if (result.verification) {
    set('redis_acked_writes_lost', result.verification.redisAckedWritesLost);
    for (const [column, value] of Object.entries(workloadMetrics(result.probeRecords, trigger))) {
      if (column in metricColumnDocs) set(column as MetricColumn, value);
    }
  }
  const fresh = result.timeline.samples.filter((s) => isFreshConnectionProbe(s.probe));
  for (const [column, value] of Object.entries(serviceOutageMetrics(fresh, trigger, m.downtime_ms))) set(column as MetricColumn, value);
  return { metrics: m, recovered, ...(!recovered && unrecoveredOutage ? { unrecovered: unrecoveredOutage } : {}) };
}
