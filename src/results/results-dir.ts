// A run's results directory. Each trial is appended and fsynced the moment it ends (samples and
// events first, its trials.csv row last), so a crash or Ctrl-C loses at most the trial in flight
// and a trials.csv row always has its samples on disk.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { TrialResult } from './trial-result.ts';
import type { TrialMetrics } from '../metrics/trial-metrics.ts';
import type { RunInfo } from './run-json.ts';
import { trialRow, trialsHeader } from './trials-csv.ts';
import { sampleRows, samplesHeader } from './samples-csv.ts';
import { eventRows, eventsHeader } from './events-csv.ts';
import { frameRows, framesHeader } from './frames-csv.ts';
import { progressHeader, progressRows } from './progress-csv.ts';

export class ResultsDir {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  get trialsCsv(): string {
    return `${this.dir}/trials.csv`;
  }

  /** Creates the directory and the CSV headers; refuses a directory that already holds results. */
  open(): void {
    if (existsSync(this.trialsCsv)) throw new Error(`${this.dir} already holds results (trials.csv); results are never overwritten`);
    mkdirSync(this.dir, { recursive: true });
    appendDurably(`${this.dir}/samples.csv`, samplesHeader());
    appendDurably(`${this.dir}/events.csv`, eventsHeader());
    appendDurably(`${this.dir}/frames.csv`, framesHeader());
    appendDurably(`${this.dir}/progress.csv`, progressHeader());
    appendDurably(this.trialsCsv, trialsHeader());
  }

  appendTrial(result: TrialResult, metrics: TrialMetrics): void {
    appendDurably(`${this.dir}/samples.csv`, sampleRows(result));
    appendDurably(`${this.dir}/events.csv`, eventRows(result));
    appendDurably(`${this.dir}/frames.csv`, frameRows(result));
    appendDurably(`${this.dir}/progress.csv`, progressRows(result));
    appendDurably(this.trialsCsv, trialRow(result, metrics));
  }

  /** Replaces run.json atomically (write + rename), so a reader never sees half a file. */
  writeRunJson(info: RunInfo): void {
    const tmp = `${this.dir}/.run.json.tmp`;
    writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
    renameSync(tmp, `${this.dir}/run.json`);
  }
}

function appendDurably(file: string, text: string): void {
  const fd = openSync(file, 'a');
  try {
    if (text) writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
