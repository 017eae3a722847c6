// Nearest-rank percentiles: always a value that was actually measured, never an interpolation
// between two samples, so a reported p99 latency is one some request really saw.

/** The p-th percentile (0–100) by nearest rank; undefined for no values. Does not modify `values`. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0..100, got ${p}`);
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}
