// trials.csv: one row per trial, identity and outcome first, then every metric column.
import { metricColumnDocs, metricColumns, type TrialMetrics } from '../metrics/trial-metrics.ts';
import { serviceOutageColumnDocs, serviceOutageColumns } from '../metrics/service-outage.ts';
import { recordsOf, type TrialRecords, type TrialResult } from '../model/trial-result.ts';
import { columnsFrom, csvLines, type CsvWriter } from './csv-writer.ts';
import { formatBool, formatMs, formatNumber, formatTimestamp } from './format.ts';

export const trialIdentityColumnDocs = {
  run_id: 'the run this trial belongs to (also the results directory name by default)',
  trial: '1-based position in the run, in execution order (warm-ups included)',
  workload: 'workload name (its `name` in the scenario, else its type)',
  strategy: 'strategy name',
  repetition: '1-based repetition within workload × strategy (warm-ups numbered separately)',
  status:
    'ok; failed (see error and failed_phase): a failed trial still has its samples and events; or unsupported: the strategy cannot run on this host or cluster (error says why), nothing was deployed or measured, and it does not fail the run',
  error: 'why the trial failed; empty when ok',
  started_at: 'wall-clock start of the trial, ISO 8601 UTC with milliseconds (a label, not used for durations)',
  warmup: 'true for warm-up trials (excluded from summaries)',
  failed_phase:
    'phase the trial failed in: deploy, prepare, settle, migrate, observe, verify, teardown — or, for a CRIU migration, the step of migrate that failed: dump or restore, and for kubelet-checkpoint also transfer or image (see docs/failures.md); empty when ok and when unsupported',
} as const;

/**
 * One column per parameter a scenario can sweep (src/scenario/sweep.ts's SWEEPABLE): the trial's
 * value of it, empty when its workload does not sweep it.
 */
export const sweepColumnDocs = {
  sweep_dataset_mib: {
    parameter: 'datasetMiB',
    unit: 'MiB',
    description: 'swept Redis `datasetMiB`: the data set loaded, in MiB of values (empty when not swept)',
  },
  sweep_keys: { parameter: 'keys', unit: 'count', description: 'swept Redis `keys` (empty when not swept)' },
  sweep_value_bytes: { parameter: 'valueBytes', unit: 'bytes', description: 'swept Redis `valueBytes` (empty when not swept)' },
  sweep_bitrate_kbps: { parameter: 'bitrateKbps', unit: 'kbit/s', description: 'swept video `bitrateKbps` (empty when not swept)' },
  sweep_model_width: { parameter: 'modelWidth', unit: 'channels', description: 'swept ml-training `modelWidth` (empty when not swept)' },
} as const;

/** The column a swept parameter's value goes to (`datasetMiB` → `sweep_dataset_mib`); undefined for a parameter without one. */
export function sweepColumn(parameter: string): string | undefined {
  return Object.entries(sweepColumnDocs).find(([, doc]) => doc.parameter === parameter)?.[0];
}

export const datasetColumnDocs = {
  dataset_bytes: {
    unit: 'bytes',
    description:
      "the workload's data set once loaded, as the app reports it: Redis INFO used_memory, measured after loading (redis only); the x of a sweep's fitted slope",
  },
} as const;

/** Added after the metric columns so that every earlier column keeps its position. */
export const provenanceColumnDocs = {
  operator:
    "podmigration only: `test-double` when migbench's test double of the operator restored the pod — a simulated migration: nothing was checkpointed or restored, the pod was re-created, so its figures say nothing about the operator — " +
    "or `real` when the restored pod lacks the double's mark (`migbench.io/operator-test-double`, which the SSU-DCN operator never writes); empty for other strategies and when no pod was restored. " +
    "run.json's `podmigrationOperator` counts the trials of each. Filter on it before comparing podmigration figures",
} as const;

/**
 * The host's load over the trial (src/system/host-load.ts), after every earlier column: what `compare`
 * checks for drift between two runs. Empty for a trial that was not run (unsupported).
 */
export const hostLoadColumnDocs = {
  host_load1: {
    unit: 'processes',
    description: '1-minute load average of the host at the end of the trial (/proc/loadavg; an average over about a minute, so partly before the trial)',
  },
  host_cpu_busy_pct: {
    unit: '%',
    description: "all CPUs' busy time (user, nice, system, irq, softirq) over the trial, deploy to teardown, in % of the host's CPU capacity (/proc/stat)",
  },
  host_other_cpu_pct: {
    unit: '%',
    description:
      "host_cpu_busy_pct less migbench's own CPU (its process and reaped children: /proc/self/stat) and its pods' (their cgroup): what the rest of the host used, in % of capacity; the figure `compare` checks for drift",
  },
  host_steal_pct: { unit: '%', description: 'CPU time stolen by the hypervisor over the trial, in % of all CPU time (/proc/stat steal)' },
  host_memory_pressure_pct: {
    unit: '%',
    description: 'share of the trial in which some task stalled waiting for memory (/proc/pressure/memory `some`); empty where the kernel has no PSI',
  },
} as const;

/** An evacuation's pods (an `evacuate:` scenario): added last, so every earlier column keeps its position; empty for a single-pod trial. */
export const evacuationColumnDocs = {
  evacuation: '1-based number of the evacuation this pod was moved in (joins evacuations.csv); empty when the trial moved one pod',
  evacuation_pods: { unit: 'count', description: 'pods the evacuation moved (all on the same source node)' },
  concurrency: { unit: 'count', description: "at most this many of the evacuation's pods moved at once" },
  evacuation_pod: "this pod's name in the evacuation (`<workload>-p<i>`: its own volumes and service)",
  evacuation_target: 'the node this pod moved to',
} as const;

export const trialsColumns = [
  ...Object.keys(trialIdentityColumnDocs),
  ...Object.keys(sweepColumnDocs),
  ...Object.keys(datasetColumnDocs),
  ...metricColumns,
  ...Object.keys(provenanceColumnDocs),
  // Added later, each after every earlier column: the host's load, the service's outage.
  ...Object.keys(hostLoadColumnDocs),
  ...Object.keys(serviceOutageColumnDocs),
  ...Object.keys(evacuationColumnDocs),
];

export const trialsCsv: CsvWriter = {
  file: 'trials.csv',
  about: 'one trial: its identity and outcome, then every figure computed from what it recorded',
  columns: [
    ...columnsFrom(trialIdentityColumnDocs),
    ...columnsFrom(sweepColumnDocs),
    ...columnsFrom(datasetColumnDocs),
    ...columnsFrom(metricColumnDocs),
    ...columnsFrom(provenanceColumnDocs),
    ...columnsFrom(hostLoadColumnDocs),
    ...columnsFrom(serviceOutageColumnDocs),
    ...columnsFrom(evacuationColumnDocs),
  ],
  rows: trialRow,
};

function hostLoadCells(load: TrialRecords['hostLoad']): string[] {
  if (!load) return Object.keys(hostLoadColumnDocs).map(() => '');
  return [
    formatNumber(load.loadavg1),
    formatNumber(load.cpuBusyPct),
    formatNumber(load.otherCpuPct),
    formatNumber(load.stealPct),
    formatNumber(load.memoryPressurePct),
  ];
}

function trialRow(result: TrialResult, metrics: TrialMetrics): string {
  const values = metricColumns.map((c) => (c.endsWith('_ms') ? formatMs(metrics[c]) : formatNumber(metrics[c])));
  const swept = result.sweep ? sweepColumn(result.sweep.parameter) : undefined;
  const sweepValues = Object.keys(sweepColumnDocs).map((c) => (c === swept ? formatNumber(result.sweep!.value) : ''));
  const records = recordsOf(result);
  return csvLines([
    [
      result.runId,
      String(result.trial),
      result.workload,
      result.strategy,
      String(result.repetition),
      result.status,
      result.status === 'ok' ? '' : result.error,
      formatTimestamp(result.startedAt),
      formatBool(result.warmup),
      result.status === 'failed' ? result.failedPhase : '',
      ...sweepValues,
      formatNumber(records?.datasetBytes),
      ...values,
      records?.operator ?? '',
      ...hostLoadCells(records?.hostLoad),
      ...serviceOutageColumns.map((c) => formatMs(metrics[c])),
      ...(result.evacuation
        ? [String(result.evacuation.id), String(result.evacuation.pods), String(result.evacuation.concurrency), result.evacuation.pod, result.evacuation.target]
        : ['', '', '', '', '']),
    ],
  ]);
}
