// progress.csv: every progress report the training probe received, raw — the data behind the
// training_* columns (step rate over time, which process reported).
import { columnsFrom, recordedLines, type CsvWriter } from './csv-writer.ts';

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
  rows: (result) =>
    recordedLines(result, ({ probeRecords }, tMs) =>
      probeRecords
        .flatMap((r) => (r.probe === 'training' ? r.progress : []))
        .map((p) => [tMs(p.at), String(p.step), String(p.startedStep), String(p.pid), String(p.processStart)]),
    ),
};
