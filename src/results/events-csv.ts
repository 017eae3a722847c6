// events.csv: the phase boundaries of every trial (trial phases, strategy steps, platform actions).
import { columnsFrom, recordedLines, type CsvWriter } from './csv-writer.ts';

export const eventsColumnDocs = {
  trial: 'trial number (joins trials.csv)',
  t_ms: 'when it happened, ms relative to the trigger (the `trigger` event is at 0)',
  source: 'who reported it: trial, strategy:<name>, platform:<name>, probe:<name>',
  event: 'what happened (e.g. phase:settle, trigger, checkpoint, restore, ready, migrated)',
  detail:
    "free text: pod, node, durations; on the kubernetes platform the pod watch's events end with `api_time=`, the API server's own timestamp of the step (whole seconds)",
} as const;

export const eventsColumns = Object.keys(eventsColumnDocs);

export const eventsCsv: CsvWriter = {
  file: 'events.csv',
  about: 'one event of one trial: a phase boundary, a strategy step, a platform action or what a probe noticed',
  columns: columnsFrom(eventsColumnDocs),
  rows: (result) =>
    recordedLines(result, ({ timeline }, tMs) => [...timeline.events].sort((a, b) => a.at - b.at).map((e) => [tMs(e.at), e.source, e.event, e.detail ?? ''])),
};
