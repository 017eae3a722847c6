// The `evacuate:` section: instead of one pod moved per trial, the source node is loaded with many
// pods (each a copy of a scenario workload, with its own service and probe) and every trial empties
// it — the question a platform team asks before node maintenance. This file owns the section's
// schema, its checks against the rest of the scenario, and its expansion into evacuations (one per
// pod count × concurrency of its sweep) that the plan turns into trials, one per pod.
import { z } from 'zod';

const podCount = z.number().int().min(1).max(64);
const concurrency = z.union([z.number().int().min(1).max(64), z.literal('all')]);

export const evacuateSchema = z
  .object({
    pods: z
      .array(
        z
          .object({
            workload: z
              .string()
              .min(1)
              .describe(
                'The workload (its `name` in `workloads`, else its type) each of these pods runs; the pods are named `<workload>-p<i>`, each with its own volumes and service.',
              ),
            count: podCount.describe('How many pods of this workload run on the source node.').default(1),
          })
          .strict()
          .describe('A kind of pod on the node: which workload, how many.'),
      )
      .min(1)
      .describe('The pods the source node (`migration.from`) is loaded with before each evacuation.'),
    concurrency: concurrency
      .describe("How many pods move at once (`all`: every pod at once), as KubeVirt's parallelOutboundMigrationsPerNode limits it; the others wait their turn.")
      .default(1),
    targets: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'The nodes the pods move to, spread in turn (pod i to targets[i mod n]); default: `migration.to` (kubernetes: `kubernetes.targetNode` or the first other worker; a drain leaves the choice to the scheduler, among every other worker). Each one of the nodes, not the source.',
      )
      .optional(),
    sweep: z
      .object({
        count: z.array(podCount).min(1).max(20).describe('Pod counts: each sets every `pods[].count` for one point of the sweep.').optional(),
        concurrency: z.array(concurrency).min(1).max(20).describe('Concurrency limits, one point each (with `count`: every pair, a grid).').optional(),
      })
      .strict()
      .describe(
        'Evacuations at several pod counts and/or concurrency limits, to see how the cost grows: every combination is its own set of trials, interleaved.',
      )
      .optional(),
  })
  .strict()
  .describe(
    "Evacuate a loaded node: every trial deploys all `pods` on the source node, probes each, and moves them all with the trial's strategy " +
      '(drain: the node cordoned once for the whole evacuation, every pod evicted, DaemonSet pods left; the CRIU strategies and redeploy: each pod). trials.csv has one row per pod, evacuations.csv one per evacuation. On both platforms (kubernetes: the source is `kubernetes.sourceNode`, each pod its own Deployment or pod and Service).',
  )
  .optional();

export type EvacuateConfig = NonNullable<z.output<typeof evacuateSchema>>;

/** One evacuation the scenario asks for: how many pods of which workload, how many at once. */
export interface EvacuationShape {
  pods: { workload: string; count: number }[];
  /** At most this many pods move at once (≥ 1, ≤ the pod count; `all` resolved to the pod count). */
  concurrency: number;
  targets: string[];
}

/**
 * Every evacuation of the section: one per point of its sweep (count × concurrency), in the order
 * written. A limit at or above the pod count is the same evacuation as `all` (every pod at once), so
 * such points count once: 1 pod at concurrency 1 and 2 is one evacuation, not two.
 */
export function evacuationShapes(config: EvacuateConfig, defaultTarget: string): EvacuationShape[] {
  const counts: (number | undefined)[] = config.sweep?.count ?? [undefined];
  const limits = config.sweep?.concurrency ?? [config.concurrency];
  const targets = config.targets ?? [defaultTarget];
  const shapes: EvacuationShape[] = [];
  for (const count of counts) {
    for (const limit of limits) {
      const pods = config.pods.map((p) => ({ workload: p.workload, count: count ?? p.count }));
      const total = pods.reduce((sum, p) => sum + p.count, 0);
      const concurrency = limit === 'all' ? total : Math.min(limit, total);
      if (shapes.some((s) => s.concurrency === concurrency && JSON.stringify(s.pods) === JSON.stringify(pods))) continue;
      shapes.push({ pods, concurrency, targets });
    }
  }
  return shapes;
}

/** The name of pod `index` (1-based) of a workload in an evacuation: its own volumes, service and pod names derive from it. */
export function evacuationPodName(workload: string, index: number): string {
  return `${workload}-p${index}`;
}

/**
 * Problems between the section and the rest of the scenario, each naming the field: unknown
 * workloads, targets that are not nodes (or are the source), repeated sweep values. On a cluster
 * (`nodes` undefined) the targets are checked against its nodes when the run reaches it.
 */
export function evacuationProblems(
  config: EvacuateConfig,
  facts: { nodes: readonly string[] | undefined; from: string; workloadNames: readonly string[]; sweptWorkloads: readonly string[] },
): { path: string; expected: string; found: string }[] {
  const problems: { path: string; expected: string; found: string }[] = [];
  config.pods.forEach((p, i) => {
    if (!facts.workloadNames.includes(p.workload)) {
      problems.push({
        path: `evacuate.pods[${i}].workload`,
        expected: `the name of a workload in \`workloads\` (${facts.workloadNames.join(', ')})`,
        found: JSON.stringify(p.workload),
      });
    } else if (facts.sweptWorkloads.includes(p.workload)) {
      problems.push({
        path: `evacuate.pods[${i}].workload`,
        expected: 'a workload without `sweep:` (an evacuation sweeps with `evacuate.sweep`)',
        found: JSON.stringify(p.workload),
      });
    }
  });
  const named = config.pods.map((p) => p.workload);
  named.forEach((w, i) => {
    if (named.indexOf(w) !== i)
      problems.push({ path: `evacuate.pods[${i}].workload`, expected: 'each workload once (raise its `count` instead)', found: JSON.stringify(w) });
  });
  facts.workloadNames.forEach((w, i) => {
    if (!named.includes(w))
      problems.push({
        path: `workloads[${i}]`,
        expected: `a workload that \`evacuate.pods\` uses (add \`{workload: ${w}, count: N}\` there, or remove it)`,
        found: JSON.stringify(w),
      });
  });
  // On a cluster the nodes are known once it is reached: its run checks the targets there.
  const nodes = facts.nodes;
  (config.targets ?? []).forEach((t, i) => {
    if (nodes === undefined) return;
    if (!nodes.includes(t)) problems.push({ path: `evacuate.targets[${i}]`, expected: `one of the nodes (${nodes.join(', ')})`, found: JSON.stringify(t) });
    else if (t === facts.from)
      problems.push({
        path: `evacuate.targets[${i}]`,
        expected: `a node other than the one evacuated (migration.from: ${facts.from})`,
        found: JSON.stringify(t),
      });
  });
  const targets = config.targets ?? [];
  targets.forEach((t, i) => {
    if (targets.indexOf(t) !== i) problems.push({ path: `evacuate.targets[${i}]`, expected: 'distinct nodes', found: `${JSON.stringify(t)} twice` });
  });
  for (const key of ['count', 'concurrency'] as const) {
    const values = (config.sweep?.[key] ?? []).map(String);
    values.forEach((v, i) => {
      if (values.indexOf(v) !== i) problems.push({ path: `evacuate.sweep.${key}[${i}]`, expected: 'distinct values', found: `${v} twice` });
    });
  }
  if (config.sweep && config.sweep.count === undefined && config.sweep.concurrency === undefined) {
    problems.push({ path: 'evacuate.sweep', expected: '`count: [...]` and/or `concurrency: [...]`', found: 'neither' });
  }
  return problems;
}
