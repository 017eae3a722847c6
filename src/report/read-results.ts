// Reads a results directory back for the HTML report: trials.csv (parsed as the summary parses it),
// events.csv, run.json, and samples.csv folded, while it streams, into segments of consecutive
// samples of one state — a run's samples.csv can hold millions of rows, its segments are few.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import type { RunInfo } from '../results/run-json.ts';
import type { EventRecord, SampleSegment } from './charts/timeline-input.ts';
import { parseTrialsCsv, summarizeTrialRecords, type SummaryRow } from './summary.ts';
import { readEvacuations } from './evacuations.ts';

export type { EventRecord, SampleSegment };

export interface ResultsData {
  dir: string;
  /** trials.csv rows, as strings keyed by column ('' = empty cell). */
  trials: Record<string, string>[];
  summary: SummaryRow[];
  segments: SampleSegment[];
  events: EventRecord[];
  /** Rows read from samples.csv. */
  sampleCount: number;
  run?: RunInfo;
  /** What was missing or unreadable (the report says so instead of failing). */
  problems: string[];
  /** evacuations.csv rows (an `evacuate:` run); absent or empty otherwise. */
  evacuations?: Record<string, string>[];
}

/** Folds samples, in file order, into segments. Samples of one trial × probe must come in time order (the writer sorts them). */
export class SegmentBuilder {
  private readonly open = new Map<string, SampleSegment>();
  private readonly done: SampleSegment[] = [];
  /** Last positive gap between two samples of each trial × probe: the interval when trials.csv has none. */
  private readonly lastGap = new Map<string, number>();

  add(trial: number, probe: string, tMs: number, ok: boolean, error: string): void {
    const key = `${trial}\u0000${probe}`;
    const current = this.open.get(key);
    if (current && tMs > current.lastMs) this.lastGap.set(key, tMs - current.lastMs);
    if (current && current.ok === ok && current.error === error) {
      current.lastMs = tMs;
      current.count++;
      return;
    }
    if (current) {
      current.endMs = tMs;
      this.done.push(current);
    }
    this.open.set(key, { trial, probe, ok, error, startMs: tMs, lastMs: tMs, endMs: tMs, count: 1 });
  }

  /** All segments, ordered by trial, probe and time; `intervalMs(trial)` ends each trial's last segment. */
  finish(intervalMs: (trial: number) => number | undefined = () => undefined): SampleSegment[] {
    for (const [key, segment] of this.open) {
      segment.endMs = segment.lastMs + (intervalMs(segment.trial) ?? this.lastGap.get(key) ?? 0);
      this.done.push(segment);
    }
    this.open.clear();
    return this.done.sort((a, b) => a.trial - b.trial || (a.probe < b.probe ? -1 : a.probe > b.probe ? 1 : 0) || a.startMs - b.startMs);
  }
}

async function readSegments(file: string, intervalMs: (trial: number) => number | undefined): Promise<{ segments: SampleSegment[]; count: number }> {
  const builder = new SegmentBuilder();
  let count = 0;
  const parser = createReadStream(file).pipe(parse({ columns: true, skip_empty_lines: true }));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    count++;
    builder.add(Number(row.trial), row.probe ?? '', Number(row.t_ms), row.ok === 'true', row.error ?? '');
  }
  return { segments: builder.finish(intervalMs), count };
}

function readEvents(file: string): EventRecord[] {
  const rows = parseSync(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r) => ({ trial: Number(r.trial), tMs: Number(r.t_ms), source: r.source ?? '', event: r.event ?? '', detail: r.detail ?? '' }));
}

/** Reads everything the report shows. trials.csv must exist (the caller checks); anything else missing is noted in `problems`. */
export async function readResults(dir: string): Promise<ResultsData> {
  const problems: string[] = [];
  const trials = parseTrialsCsv(readFileSync(`${dir}/trials.csv`, 'utf8'));
  const intervals = new Map(trials.map((t) => [Number(t.trial), t.probe_interval_ms ? Number(t.probe_interval_ms) : undefined]));

  let segments: SampleSegment[] = [];
  let sampleCount = 0;
  if (existsSync(`${dir}/samples.csv`)) ({ segments, count: sampleCount } = await readSegments(`${dir}/samples.csv`, (trial) => intervals.get(trial)));
  else problems.push(`${dir}/samples.csv is missing: no availability timelines`);

  let events: EventRecord[] = [];
  if (existsSync(`${dir}/events.csv`)) events = readEvents(`${dir}/events.csv`);
  else problems.push(`${dir}/events.csv is missing: no phase markers`);

  let run: RunInfo | undefined;
  if (existsSync(`${dir}/run.json`)) {
    try {
      run = JSON.parse(readFileSync(`${dir}/run.json`, 'utf8')) as RunInfo;
    } catch (err) {
      problems.push(`${dir}/run.json is not valid JSON (${err instanceof Error ? err.message : String(err)}): no environment shown`);
    }
  } else problems.push(`${dir}/run.json is missing: no environment shown`);

  const evacuations = readEvacuations(dir);
  return {
    dir,
    trials,
    summary: summarizeTrialRecords(trials),
    segments,
    events,
    sampleCount,
    run,
    problems,
    ...(evacuations.length > 0 ? { evacuations } : {}),
  };
}
