// Which scenario fields belong to which platform, one entry per platform: the fields that only make
// sense on it (and are refused on the other, rather than silently ignored), and how it names the
// move's two nodes before anything is reached. Keyed by the schema's platform names, so adding a
// platform to the schema is a type error here until it has its entry.
import type { Scenario } from './schema.ts';
import { describe, type ScenarioProblem } from './problem.ts';
import { sweepInstances } from './sweep.ts';

type Locate = (path: PropertyKey[]) => string | undefined;

interface PlatformFields {
  /** Every problem of the scenario's platform fields (`raw`: the document as written, before defaults). */
  problems(s: Scenario, raw: Record<string, unknown>, locate: Locate): ScenarioProblem[];
  /** The move's source and target as the plan shows them: node names, or the rule that will pick them. */
  migration(s: Scenario): { from: string; to: string };
  /** The nodes known before the platform is reached (local: the scenario's); undefined: only the cluster knows them (checked there). */
  knownNodes(s: Scenario): readonly string[] | undefined;
}

const local: PlatformFields = {
  problems(s) {
    const problems: ScenarioProblem[] = [];
    if (s.kubernetes !== undefined)
      problems.push({ path: 'kubernetes', expected: 'no `kubernetes:` block with platform: local (or set platform: kubernetes)', found: 'a mapping' });
    for (const key of ['from', 'to'] as const) {
      const node = s.migration[key];
      if (node !== undefined && !s.nodes.includes(node)) {
        problems.push({ path: `migration.${key}`, expected: `one of the nodes (${s.nodes.join(', ')})`, found: JSON.stringify(node) });
      }
    }
    if (s.migration.from !== undefined && s.migration.from === s.migration.to) {
      problems.push({ path: 'migration.to', expected: 'a node other than migration.from', found: JSON.stringify(s.migration.to) });
    }
    return problems;
  },
  migration(s) {
    // A default never picks the node the other end names (`migration: { to: node-a }` starts on node-b).
    const from = s.migration.from ?? s.nodes.find((n) => n !== s.migration.to)!;
    const to = s.migration.to ?? s.nodes.find((n) => n !== from)!;
    return { from, to };
  },
  knownNodes: (s) => s.nodes,
};

const kubernetes: PlatformFields = {
  problems(s, raw, locate) {
    const problems = localOnlyFields(raw, locate);
    const k8s = s.kubernetes;
    if (k8s === undefined) {
      problems.push({
        path: 'kubernetes',
        expected: 'a `kubernetes:` block with platform: kubernetes (at least `address: host:port` of the Service, or `probes: false`)',
        found: 'nothing',
      });
      return problems;
    }
    if (k8s.probes && k8s.address === undefined && k8s.nodeAddress === undefined && k8s.expose === undefined) {
      problems.push({
        path: 'kubernetes.address',
        expected:
          "how the probes reach each workload's Service: expose: nodePort (with nodeAddress, a node's address from here), expose: loadBalancer, a fixed address (host:port), or `probes: false` to skip the app probes",
        found: 'nothing',
      });
    }
    if (k8s.address !== undefined && k8s.nodeAddress !== undefined) {
      problems.push({
        path: 'kubernetes.nodeAddress',
        expected: 'either address (one host:port) or nodeAddress (each workload at its NodePort), not both',
        found: JSON.stringify(k8s.nodeAddress),
      });
    }
    if (k8s.address !== undefined && k8s.expose !== undefined) {
      problems.push({
        path: 'kubernetes.expose',
        expected: 'either address (a fixed host:port) or expose (ports the cluster allocates), not both',
        found: JSON.stringify(k8s.expose),
      });
    }
    if (k8s.nodeAddress !== undefined && k8s.expose === 'loadBalancer') {
      problems.push({
        path: 'kubernetes.nodeAddress',
        expected: "no nodeAddress with expose: loadBalancer (the probes go to the load balancer's address)",
        found: JSON.stringify(k8s.nodeAddress),
      });
    }
    const instances = s.workloads.flatMap((w) => sweepInstances(w).map((i) => i.name));
    if (k8s.probes && k8s.address !== undefined && instances.length > 1) {
      problems.push({
        path: 'kubernetes.address',
        expected: `one workload with a fixed address (the probes would reach all ${instances.length} — ${instances.join(', ')} — at this one port); use expose: nodePort or loadBalancer, each workload at its own port`,
        found: JSON.stringify(k8s.address),
      });
    }
    if (k8s.sourceNode !== undefined && k8s.sourceNode === k8s.targetNode) {
      problems.push({ path: 'kubernetes.targetNode', expected: 'a node other than kubernetes.sourceNode', found: JSON.stringify(k8s.targetNode) });
    }
    for (const key of ['from', 'to'] as const) {
      if (s.migration[key] !== undefined) {
        problems.push({
          path: `migration.${key}`,
          expected: `kubernetes.${key === 'from' ? 'sourceNode' : 'targetNode'} on the kubernetes platform (migration.* names the local platform's nodes)`,
          found: JSON.stringify(s.migration[key]),
        });
      }
    }
    return problems;
  },
  migration(s) {
    // The cluster's nodes are known only once it is reached; these say which rule will pick them.
    const k8s = s.kubernetes!;
    return { from: k8s.sourceNode ?? 'the first schedulable worker', to: k8s.targetNode ?? 'the first schedulable worker other than the source' };
  },
  knownNodes: () => undefined,
};

/**
 * The local platform's fields written in a kubernetes scenario: the schema fills them with defaults,
 * so only the document tells they were given — and silently ignoring them would run something
 * other than what the user wrote.
 */
function localOnlyFields(raw: Record<string, unknown>, locate: Locate): ScenarioProblem[] {
  const fix: Record<string, string> = {
    nodes: "no `nodes` with platform: kubernetes (the cluster's nodes are its own; name them with kubernetes.sourceNode and kubernetes.targetNode)",
    local: 'no `local:` block with platform: kubernetes (its fields configure the local platform only; set platform: local to use them)',
    migration: 'no `migration` with platform: kubernetes (use kubernetes.sourceNode and kubernetes.targetNode)',
  };
  const migration = raw.migration as Record<string, unknown> | undefined;
  return (
    Object.keys(fix)
      .filter((field) => field in raw)
      // migration.from / migration.to are named on their own (the kubernetes entry's problems).
      .filter(
        (field) => field !== 'migration' || migration === null || typeof migration !== 'object' || (migration.from === undefined && migration.to === undefined),
      )
      .map((field) => ({ path: field, expected: fix[field]!, found: describe(raw[field]), where: locate([field]) }))
  );
}

export const platformFields: Record<Scenario['platform'], PlatformFields> = { local, kubernetes };
