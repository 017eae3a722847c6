// progress.csv: every progress report the training probe received, raw — the data behind the
// training_* columns (step rate over time, which process reported).
import { stringify } from 'csv-stringify/sync';
import type { TrialResult } from './trial-result.ts';
import { formatMs } from './format.ts';

export const progressColumnDocs = {
  trial: 'trial number (joins trials.csv)',
  t_ms: 'when the answer arrived, ms relative to the trigger',
  step: 'the training step counter the job reported',
  started_step: 'the step the reporting process resumed from (0: a fresh start; a CRIU-restored process keeps its value)',
  pid: 'the reporting process id (inside its pod)',
  process_start: 'CLOCK_REALTIME seconds at which the reporting process started (a new value = a new process)',
} as const;

export const progressColumns = Object.keys(progressColumnDocs);

export function progressHeader(): string {
  return stringify([progressColumns]);
}

export function progressRows(result: TrialResult): string {
  const trigger = result.timeline.triggerAt;
  const rows = (result.trainingProgress ?? []).map((p) => [String(result.trial), formatMs(p.at - trigger), String(p.step), String(p.startedStep), String(p.pid), String(p.processStart)]);
  return rows.length === 0 ? '' : stringify(rows);
}
