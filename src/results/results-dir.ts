// A run's results directory. Each trial is appended and fsynced the moment it ends (samples and
// events first, its trials.csv row last), so a crash or Ctrl-C loses at most the trial in flight
// and a trials.csv row always has its samples on disk.
import { accessSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TrialMetrics } from '../metrics/trial-metrics.ts';
import type { TrialResult } from '../model/trial-result.ts';
import { csvHeader } from './csv-writer.ts';
import type { RunInfo } from './run-json.ts';
import { csvWriters } from './writers.ts';

/**
 * Why `dir` cannot take a run's results, or undefined when it can: checked before anything starts,
 * so a typo'd --out never costs a whole run that then has nowhere to write its first trial.
 */
export function resultsDirProblem(dir: string): string | undefined {
  if (existsSync(`${dir}/trials.csv`)) return `--out ${dir}: already holds results (trials.csv); choose another directory — results are never overwritten`;
  // The nearest part of the path that exists must be a directory we may create entries in.
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) {
    return `--out ${dir}: ${existing} is a file, not a directory; give a directory (it is created if missing), e.g. --out results/my-run`;
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch (err) {
    return `--out ${dir}: ${existing} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)}); give a directory you can write to, e.g. --out results/my-run`;
  }
  return undefined;
}

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
    for (const writer of csvWriters) appendDurably(`${this.dir}/${writer.file}`, csvHeader(writer));
  }

  /** Appends the trial's rows to every file, in the writers' order (trials.csv last). */
  appendTrial(result: TrialResult, metrics: TrialMetrics): void {
    for (const writer of csvWriters) appendDurably(`${this.dir}/${writer.file}`, writer.rows(result, metrics));
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
