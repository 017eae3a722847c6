// evacuations.csv: one row per evacuation (an `evacuate:` scenario), written with its last pod's
// rows: the time to empty the node and the spread of its pods' downtimes. Its pods' own rows are in
// trials.csv (column `evacuation` joins them).
import type { TrialResult } from '../model/trial-result.ts';
import { recordsOf } from '../model/trial-result.ts';
import { columnsFrom, csvLines, type CsvWriter } from './csv-writer.ts';
import { formatBool, formatMs, formatNumber } from './format.ts';

export const evacuationsColumnDocs = {
  run_id: 'the run this evacuation belongs to',
  evacuation: "1-based number of the evacuation in the run (trials.csv's `evacuation` of its pods)",
  strategy: 'strategy that moved every pod',
  repetition: '1-based repetition of this strategy × pod count × concurrency (warm-ups numbered separately)',
  warmup: 'true for warm-up evacuations (excluded from summaries)',
  pods: { unit: 'count', description: 'pods on the source node, all moved by this evacuation' },
  concurrency: { unit: 'count', description: 'at most this many pods moved at once' },
  targets: 'the nodes the pods moved to, spread in turn, separated by spaces',
  total_ms: {
    unit: 'ms',
    description:
      'trigger → the last pod serving again: per pod the later of its strategy finishing and the first successful probe sample after its last outage; the maximum over the pods. Empty when a pod failed or never served again',
  },
  downtime_p50_ms: { unit: 'ms', description: "median of the pods' downtime_ms (nearest rank)" },
  downtime_p99_ms: { unit: 'ms', description: "99th percentile of the pods' downtime_ms (nearest rank)" },
  downtime_max_ms: { unit: 'ms', description: 'longest downtime_ms of any pod' },
  pods_failed: { unit: 'count', description: 'pods whose trial failed (their trials.csv rows say in which phase)' },
  bytes_moved: { unit: 'bytes', description: 'checkpoint images written, all pods together (criu strategies; 0 for drain and redeploy, which move no state)' },
  harness_cpu_ms: {
    unit: 'ms',
    description:
      "migbench's own process CPU (user + system, process.cpuUsage) over the evacuation, deploy to teardown: its probes and platform calls, not the pods, CRIU or the nodes",
  },
  harness_cpu_pct: { unit: '%', description: "harness_cpu_ms over the evacuation's wall time: the share of one core the harness used" },
} as const;

export const evacuationsCsv: CsvWriter = {
  file: 'evacuations.csv',
  about: 'one evacuation of a loaded node: every pod moved, from the trigger to the last pod serving again',
  columns: columnsFrom(evacuationsColumnDocs),
  rows: (result: TrialResult) => {
    const summary = recordsOf(result)?.evacuationSummary;
    if (!summary) return '';
    return csvLines([
      [
        result.runId,
        String(summary.id),
        summary.strategy,
        String(summary.repetition),
        formatBool(summary.warmup),
        String(summary.pods),
        String(summary.concurrency),
        summary.targets.join(' '),
        formatMs(summary.totalMs),
        formatMs(summary.downtimeP50Ms),
        formatMs(summary.downtimeP99Ms),
        formatMs(summary.downtimeMaxMs),
        String(summary.podsFailed),
        formatNumber(summary.bytesMoved),
        formatMs(summary.harnessCpuMs),
        summary.harnessCpuPercent === undefined ? '' : String(summary.harnessCpuPercent),
      ],
    ]);
  },
};
