// events.csv: the phase boundaries of every trial (trial phases, strategy steps, platform actions).
import { stringify } from 'csv-stringify/sync';
import type { TrialResult } from './trial-result.ts';
import { formatMs } from './format.ts';

export const eventsColumnDocs = {
  trial: 'trial number (joins trials.csv)',
  t_ms: 'when it happened, ms relative to the trigger (the `trigger` event is at 0)',
  source: 'who reported it: trial, strategy:<name>, platform:<name>, probe:<name>',
  event: 'what happened (e.g. phase:settle, trigger, checkpoint, restore, ready, migrated)',
  detail: "free text: pod, node, durations; on the kubernetes platform the pod watch's events end with `api_time=`, the API server's own timestamp of the step (whole seconds)",
} as const;

export const eventsColumns = Object.keys(eventsColumnDocs);

export function eventsHeader(): string {
  return stringify([eventsColumns]);
}

export function eventRows(result: TrialResult): string {
  const trigger = result.timeline.triggerAt;
  const rows = [...result.timeline.events]
    .sort((a, b) => a.at - b.at)
    .map((e) => [String(result.trial), formatMs(e.at - trigger), e.source, e.event, e.detail ?? '']);
  return rows.length === 0 ? '' : stringify(rows);
}
