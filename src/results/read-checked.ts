// Reading a results directory back (compare, report) as user input: a trials.csv or run.json that
// was edited by hand, cut short by a full disk or a kill, or is not migbench's at all gets one
// message per problem — naming the file, the row or field, and the fix — instead of a parser's
// stack trace or a summary silently computed from half a file.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { comparableMetricColumns } from '../metrics/trial-metrics.ts';

/** Columns compare and report rely on; any migbench trials.csv has them (trials-csv.ts). */
const REQUIRED_TRIAL_COLUMNS = ['trial', 'workload', 'strategy', 'status', 'warmup'] as const;

export interface Checked<T> {
  value: T;
  problems: string[];
}

/**
 * Parses trials.csv and checks it: not empty, the header has the required columns, every row has as
 * many cells as the header (a torn last line does not), and every non-empty metric cell is a number.
 */
export function readTrialsChecked(file: string): Checked<Record<string, string>[]> {
  const problems: string[] = [];
  if (!existsSync(file)) return { value: [], problems: [`${file}: missing; give a results directory written by \`migbench run\``] };
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '')
    return { value: [], problems: [`${file}: empty (no header line); it was not written by \`migbench run\`, or the disk was full — rerun the benchmark`] };
  // A writer appends whole lines ending in a newline; anything after the last one is a torn line.
  if (!text.endsWith('\n')) {
    const line = text.split('\n').length;
    problems.push(
      `${file}: line ${line} is torn (the file does not end with a newline: the run was killed or the disk filled while writing it); delete that line and the trial it belongs to, or rerun`,
    );
  }
  let rows: string[][];
  try {
    rows = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (err) {
    return {
      value: [],
      problems: [
        ...problems,
        `${file}: not a CSV file (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); give the trials.csv written by \`migbench run\``,
      ],
    };
  }
  const [header = [], ...body] = rows;
  const missing = REQUIRED_TRIAL_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0)
    problems.push(
      `${file}: header: column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `\`${c}\``).join(', ')} missing; is this a migbench trials.csv? (its header starts with run_id,trial,workload,strategy)`,
    );
  const numeric = new Set<string>(comparableMetricColumns);
  const records: Record<string, string>[] = [];
  body.forEach((cells, i) => {
    const line = i + 2;
    if (cells.length !== header.length) {
      problems.push(`${file}: line ${line}: ${cells.length} cells, the header has ${header.length}; repair or delete that line`);
      return;
    }
    const record: Record<string, string> = {};
    header.forEach((column, j) => {
      const cell = cells[j] ?? '';
      record[column] = cell;
      if (numeric.has(column) && cell !== '' && !Number.isFinite(Number(cell))) {
        problems.push(`${file}: line ${line}, column \`${column}\`: "${cell.slice(0, 40)}" is not a number; fix the cell or leave it empty`);
      }
    });
    records.push(record);
  });
  return { value: records, problems };
}

/** run.json is optional; when it is there it must be JSON (an object). */
export function readRunJsonChecked<T>(file: string): Checked<T | undefined> {
  if (!existsSync(file)) return { value: undefined, problems: [] };
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return {
        value: undefined,
        problems: [
          `${file}: expected a JSON object (migbench's run information), found ${Array.isArray(value) ? 'an array' : typeof value}; restore it or delete it`,
        ],
      };
    }
    return { value: value as T, problems: [] };
  } catch (err) {
    return {
      value: undefined,
      problems: [
        `${file}: not valid JSON (${err instanceof Error ? err.message : String(err)}); restore it from the run or delete it (compare and report work without it)`,
      ],
    };
  }
}
