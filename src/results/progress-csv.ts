// progress.csv: every progress report the training probe received, raw — the data behind the
// training_* columns (step rate over time, which process reported).
import { recordsOf } from '../model/trial-result.ts';
import { columnsFrom, csvLines, type CsvWriter } from './csv-writer.ts';
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

export const progressCsv: CsvWriter = {
  file: 'progress.csv',
  about: 'one progress report received by the training probe (ml-training workloads only)',
  columns: columnsFrom(progressColumnDocs),
  rows(result) {
    const records = recordsOf(result);
    if (!records) return '';
    const trigger = records.timeline.triggerAt;
    const progress = records.probeRecords.flatMap((r) => (r.probe === 'training' ? r.progress : []));
    return csvLines(progress.map((p) => [String(result.trial), formatMs(p.at - trigger), String(p.step), String(p.startedStep), String(p.pid), String(p.processStart)]));
  },
};
