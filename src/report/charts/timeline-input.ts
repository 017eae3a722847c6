// What the availability timeline is drawn from: the samples folded into segments of one state, and
// the trial's events (read-results.ts reads both from a results directory).

/** A maximal run of consecutive samples of one probe in one trial with the same outcome (ok, or failed with one error). */
export interface SampleSegment {
  trial: number;
  probe: string;
  ok: boolean;
  /** The samples' error ('' when ok). */
  error: string;
  /** t_ms of the first sample. */
  startMs: number;
  /** t_ms of the last sample. */
  lastMs: number;
  /** Where the segment ends: the next segment's first sample, or the last sample + the probe interval. */
  endMs: number;
  count: number;
}

export interface EventRecord {
  trial: number;
  tMs: number;
  source: string;
  event: string;
  detail: string;
}
