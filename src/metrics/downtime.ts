// Outages as the probe saw them. Samples are ordered by when they were due (open loop), so an
// outage is a maximal run of consecutive failed ticks, and its length is measured between tick
// start times: it is exact to within one probe interval, which is why probe_interval_ms is
// written beside every downtime.
import type { Sample } from '../model/timeline.ts';

export interface Outage {
  /** scheduledAt of the first failed sample. */
  firstFailedAt: number;
  /** scheduledAt of the last failed sample. */
  lastFailedAt: number;
  /** scheduledAt of the last successful sample before the outage; undefined if the probe never succeeded before it. */
  lastOkBeforeAt?: number;
  /** scheduledAt of the first successful sample after; undefined if the service never answered again. */
  firstOkAfterAt?: number;
  failedSamples: number;
}

/** Splits one probe's samples into its outages, in time order. */
export function findOutages(samples: readonly Sample[]): Outage[] {
  const ordered = [...samples].sort((a, b) => a.scheduledAt - b.scheduledAt);
  const outages: Outage[] = [];
  let current: Outage | undefined;
  let lastOk: number | undefined;
  for (const s of ordered) {
    if (!s.ok) {
      if (!current) {
        current = { firstFailedAt: s.scheduledAt, lastFailedAt: s.scheduledAt, failedSamples: 0, ...(lastOk !== undefined ? { lastOkBeforeAt: lastOk } : {}) };
        outages.push(current);
      }
      current.lastFailedAt = s.scheduledAt;
      current.failedSamples++;
    } else {
      if (current) current.firstOkAfterAt = s.scheduledAt;
      current = undefined;
      lastOk = s.scheduledAt;
    }
  }
  return outages;
}

/** Start of the first failed sample → start of the first successful one after; undefined if it never ended. */
export function outageDuration(o: Outage): number | undefined {
  return o.firstOkAfterAt === undefined ? undefined : o.firstOkAfterAt - o.firstFailedAt;
}

/** Start of the last success before → start of the first success after: the most the outage can have lasted. */
export function outageUpperBound(o: Outage): number | undefined {
  return o.firstOkAfterAt === undefined ? undefined : o.firstOkAfterAt - (o.lastOkBeforeAt ?? o.firstFailedAt);
}
