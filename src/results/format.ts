// How values look in every CSV, in one place so the files agree with each other and docs/results.md.

/** Milliseconds with 3 decimals (µs resolution, which is what performance.now() gives on Linux). */
export function formatMs(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '' : ms.toFixed(3);
}

/** Counts and byte sizes as integers; other numbers unrounded. Empty when not measured. */
export function formatNumber(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : String(value);
}

export function formatBool(value: boolean): string {
  return value ? 'true' : 'false';
}

/** ISO 8601, UTC, millisecond precision, with the `Z`. */
export function formatTimestamp(date: Date): string {
  return date.toISOString();
}
