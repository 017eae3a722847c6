// The shape every CSV file of a results directory has: a name, its columns with their meaning, and
// the rows one trial adds, serialized to text. Where the text goes (append + fsync in
// results-dir.ts) is decided elsewhere, so a writer is tested by string equality (hyperfine's
// `Exporter`). The column list is also the documentation: docs/results.md is generated from it.
import { stringify } from 'csv-stringify/sync';
import type { TrialMetrics } from '../metrics/trial-metrics.ts';
import { recordsOf, type TrialRecords, type TrialResult } from '../model/trial-result.ts';
import { formatMs } from './format.ts';

export interface CsvColumn {
  name: string;
  /** ms, count, bytes, ...; absent for labels and free text. */
  unit?: string;
  description: string;
}

export interface CsvWriter {
  /** The file's name in the results directory. */
  readonly file: string;
  /** What one line of the file is. */
  readonly about: string;
  /** Every column, in the order of the header. */
  readonly columns: readonly CsvColumn[];
  /** The lines one trial adds, each ending in a newline; '' when it adds none. */
  rows(result: TrialResult, metrics: TrialMetrics): string;
}

/** The header line of a writer's file. */
export function csvHeader(writer: CsvWriter): string {
  return stringify([writer.columns.map((c) => c.name)]);
}

/** Columns from a `{ column: description }` or `{ column: { unit, description } }` map, in its order. */
export function columnsFrom(docs: Readonly<Record<string, string | { unit?: string; description: string }>>): CsvColumn[] {
  return Object.entries(docs).map(([name, doc]) =>
    typeof doc === 'string' ? { name, description: doc } : { name, ...(doc.unit !== undefined ? { unit: doc.unit } : {}), description: doc.description },
  );
}

/** CSV text for rows of cells; '' for none (a trial with nothing to add writes nothing). */
export function csvLines(rows: readonly (readonly string[])[]): string {
  return rows.length === 0 ? '' : stringify(rows as string[][]);
}

/**
 * The lines of what a trial recorded, each cell list starting with the trial's number; `tMs` gives a
 * time as t_ms (relative to the trigger). None for a trial that never started (unsupported).
 */
export function recordedLines(result: TrialResult, cells: (records: TrialRecords, tMs: (at: number) => string) => string[][]): string {
  const records = recordsOf(result);
  if (!records) return '';
  const trigger = records.timeline.triggerAt;
  return csvLines(cells(records, (at) => formatMs(at - trigger)).map((row) => [String(result.trial), ...row]));
}
