// The service's outage beside the connected client's. The fresh-connection probe
// (src/probes/fresh-connection-probe.ts) opens a new connection per tick, so its outage is the
// service's own: from the first tick no new connection got an answer to the first that did again —
// what a load balancer's health check sees. downtime_ms is the connected client's (one long-lived
// connection that must notice the move and reconnect), what a pooled client sees. Their difference
// is the client's own part of the outage. These columns go after every other column of trials.csv.
import type { Sample } from '../model/timeline.ts';
import { findOutages, outageDuration, outageUpperBound, type Outage } from './downtime.ts';

/** The suffix of a fresh-connection probe's name (`redis-fresh`): how its samples are told apart. */
export const FRESH_PROBE_SUFFIX = '-fresh';

export const isFreshConnectionProbe = (probe: string) => probe.endsWith(FRESH_PROBE_SUFFIX);

export const serviceOutageColumnDocs = {
  service_downtime_ms: {
    unit: 'ms',
    description:
      "the service's outage, as a fresh connection per tick sees it (probe `<name>-fresh` in samples.csv: connect, one request — Redis PING, HTTP GET — close): the longest run of failed fresh-connection samples after the trigger, start of its first failed sample → start of the first successful one after it; ± probe_interval_ms; empty when the workload has no fresh-connection probe",
  },
  service_downtime_upper_ms: {
    unit: 'ms',
    description: 'the same outage from the last successful fresh-connection sample before it: the most it can have lasted',
  },
  anat_client_gap_ms: {
    unit: 'ms',
    description:
      "downtime_ms − service_downtime_ms: the part of the connected client's outage that was its own (noticing the move, reconnecting), not the service's; ± 2 × probe_interval_ms",
  },
} as const;

export type ServiceOutageColumn = keyof typeof serviceOutageColumnDocs;
export const serviceOutageColumns = Object.keys(serviceOutageColumnDocs) as ServiceOutageColumn[];

/**
 * From the fresh-connection samples (all fresh probes' samples, each probe's outages apart) and the
 * connected client's downtime_ms. An outage still going on at the end of probing has no duration:
 * the columns stay empty, as downtime_ms does then.
 */
export function serviceOutageMetrics(
  freshSamples: readonly Sample[],
  triggerAt: number,
  downtimeMs: number | undefined,
): Partial<Record<ServiceOutageColumn, number>> {
  if (freshSamples.length === 0) return {};
  const byProbe = new Map<string, Sample[]>();
  for (const s of freshSamples) (byProbe.get(s.probe) ?? byProbe.set(s.probe, []).get(s.probe)!).push(s);
  const outages: Outage[] = [];
  for (const samples of byProbe.values()) {
    outages.push(...findOutages(samples).filter((o) => o.lastFailedAt >= triggerAt || o.firstOkAfterAt === undefined || o.firstOkAfterAt > triggerAt));
  }
  if (outages.some((o) => o.firstOkAfterAt === undefined)) return {};
  const longest = outages.reduce<Outage | undefined>((best, o) => (best === undefined || outageDuration(o)! > outageDuration(best)! ? o : best), undefined);
  const service = longest ? outageDuration(longest)! : 0;
  return {
    service_downtime_ms: service,
    service_downtime_upper_ms: longest ? outageUpperBound(longest)! : 0,
    ...(downtimeMs !== undefined ? { anat_client_gap_ms: downtimeMs - service } : {}),
  };
}
