// frames.csv: every video frame the video probe's player received, raw — the data behind the video_*
// columns, for inter-arrival plots or another player model.
import { columnsFrom, recordedLines, type CsvWriter } from './csv-writer.ts';

export const framesColumnDocs = {
  trial: 'trial number (joins trials.csv)',
  t_ms: 'when the frame had fully arrived, ms relative to the trigger',
  connection: 'the client connection it came on, numbered from 0 per trial (a new number = the player reconnected)',
  epoch: 'the stream epoch: CLOCK_REALTIME µs at which the server process started (a new value = a new server process)',
  seq: 'frame number within the epoch, from 0',
  server_ts_us: 'CLOCK_REALTIME µs at which the server produced the frame',
} as const;

export const framesColumns = Object.keys(framesColumnDocs);

export const framesCsv: CsvWriter = {
  file: 'frames.csv',
  about: 'one video frame received by the video probe (video workloads only)',
  columns: columnsFrom(framesColumnDocs),
  rows: (result) =>
    recordedLines(result, ({ probeRecords }, tMs) =>
      probeRecords
        .flatMap((r) => (r.probe === 'video' ? r.frames : []))
        .map((f) => [tMs(f.at), String(f.connection), String(f.epoch), String(f.seq), String(f.serverTsUs)]),
    ),
};
