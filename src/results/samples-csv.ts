// samples.csv: every probe sample of every trial, raw, so any other statistic can be computed later.
import { columnsFrom, recordedLines, type CsvWriter } from './csv-writer.ts';
import { formatBool, formatMs } from './format.ts';

export const samplesColumnDocs = {
  trial: 'trial number (joins trials.csv)',
  probe: 'which probe took the sample (e.g. redis)',
  t_ms: 'when the sample was due, ms relative to the trigger (negative: before the migration started); open loop, so ticks are evenly spaced',
  ok: 'true if the service answered correctly within the timeout',
  latency_ms: 'due → answer (or failure), ms; includes any delay in sending, so queueing is not hidden',
  error: 'why it failed: timeout, refused, reset, unreachable, disconnected, wrong_reply, server_error, other; empty when ok',
  send_lag_ms: 'due → handed to the client library, ms: the probe’s own lag (large values mean the host was busy)',
} as const;

export const samplesColumns = Object.keys(samplesColumnDocs);

export const samplesCsv: CsvWriter = {
  file: 'samples.csv',
  about: 'one probe sample (tick) of one trial',
  columns: columnsFrom(samplesColumnDocs),
  rows: (result) =>
    recordedLines(result, ({ timeline }, tMs) =>
      [...timeline.samples]
        .sort((a, b) => a.scheduledAt - b.scheduledAt)
        .map((s) => [s.probe, tMs(s.scheduledAt), formatBool(s.ok), formatMs(s.doneAt - s.scheduledAt), s.error, formatMs(s.sentAt - s.scheduledAt)]),
    ),
};
