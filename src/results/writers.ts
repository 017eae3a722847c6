// The one list of a results directory's CSV files, in the order each trial's rows are appended:
// trials.csv last, so a crash mid-trial never leaves a trials.csv row without its samples and
// events on disk. A new file is a writer (csv-writer.ts) and one line here.
import type { CsvWriter } from './csv-writer.ts';
import { evacuationsCsv } from './evacuations-csv.ts';
import { eventsCsv } from './events-csv.ts';
import { framesCsv } from './frames-csv.ts';
import { progressCsv } from './progress-csv.ts';
import { samplesCsv } from './samples-csv.ts';
import { trialsCsv } from './trials-csv.ts';

export const csvWriters: readonly CsvWriter[] = [samplesCsv, eventsCsv, framesCsv, progressCsv, evacuationsCsv, trialsCsv];
