// `migbench run` for `platform: kubernetes`: reach the cluster and check, reading only, everything
// that can be checked before a trial (namespace, nodes, the operator's resource type) — a problem
// there is exit 2 with nothing created — then run the trials on the cluster and write the same
// results as a local run. `--dry-run` walks the same trials printing each call that would change
// the cluster, and changes nothing.
import { resolve } from 'node:path';
import type { LoadedScenario } from '../scenario/load.ts';
import { planTrials, type PlannedTrial } from '../plan/plan.ts';
import { KubeApi } from '../platforms/kubernetes/api.ts';
import { ClusterError, chooseNodes, connectCluster, describeApiError, nodeInfo, preflight, type Cluster, type NodeInfo } from '../platforms/kubernetes/cluster.ts';
import { readWorkloadManifests } from '../platforms/kubernetes/manifests.ts';
import { PODMIGRATION_API_VERSION } from '../strategies/podmigration.ts';
import { createKubernetesStrategy } from '../strategies/registry.ts';
import { createWorkload } from '../workloads/registry.ts';
import { probeOptions } from '../probes/probe.ts';
import { runKubernetesTrial } from '../runner/kubernetes-trial.ts';
import { Runner } from '../runner/run.ts';
import type { TrialIdentity } from '../results/trial-result.ts';
import { ResultsDir, resultsDirProblem } from '../results/results-dir.ts';
import { startRunInfo } from '../results/run-json.ts';
import { attachProgress } from '../ui/progress.ts';
import { summarizeResultsDir } from '../report/summary.ts';
import { CommandFailure, EXIT_INTERRUPTED, EXIT_OK, EXIT_TRIAL_FAILED, EXIT_USAGE } from './exit-codes.ts';
import { handleInterrupts } from './interrupt.ts';
import { makeRunId, type RunArgs } from './run.ts';

export interface KubernetesFlags {
  dryRun: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export async function runKubernetesCommand(args: RunArgs, flags: KubernetesFlags, loaded: LoadedScenario): Promise<number> {
  const { scenario } = loaded;
  const k8s = scenario.kubernetes!;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const scenarioName = scenario.name ?? args.scenario.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const started = new Date();
  const runId = makeRunId(started, scenarioName);
  const outDir = resolve(args.out ?? `${scenario.output.dir}/${runId}`);
  const outProblem = flags.dryRun ? undefined : resultsDirProblem(outDir);
  if (outProblem) throw new CommandFailure(outProblem, EXIT_USAGE);
  const trials = planTrials(scenario);
  let cluster: Cluster;
  let nodes: NodeInfo[];
  try {
    cluster = connectCluster({ kubeconfig: flags.kubeconfig ?? k8s.kubeconfig, context: flags.context ?? k8s.context, namespace: flags.namespace ?? k8s.namespace });
    nodes = await preflight(cluster);
    const { source } = chooseNodes(nodes, k8s);
    const sourceNode = nodes.find((n) => n.name === source)!;
    if (sourceNode.controlPlane && !k8s.forceControlPlane && scenario.strategies.some((s) => s.name === 'drain')) {
      throw new ClusterError(`kubernetes.sourceNode: ${source} is a control-plane node and the scenario drains it; name a worker, or set kubernetes.forceControlPlane: true`);
    }
    if (scenario.strategies.some((s) => s.name === 'podmigration' && s.api === 'resource')) await requirePodmigrationResource(cluster);
    // Checked by the loader for the scenario's namespace; --namespace may have named another.
    if (cluster.namespace !== 'default' && scenario.strategies.some((s) => s.name === 'podmigration' && s.api === 'rest')) {
      throw new ClusterError(`--namespace ${cluster.namespace}: podmigration api: rest works in namespace default only (the operator's REST API creates its resources there); use api: resource, or namespace default`);
    }
  } catch (err) {
    if (err instanceof ClusterError) throw new CommandFailure(err.message, EXIT_USAGE);
    throw err;
  }
  for (const w of new Set(scenario.workloads.map((w) => w.type))) {
    try {
      readWorkloadManifests(w);
    } catch (err) {
      throw new CommandFailure(`migbench: workloads[].type ${w}: no usable workloads/${w}/k8s.yaml (${(err as Error).message}); nothing was created`, EXIT_USAGE);
    }
  }
  const address = k8s.probes && k8s.address ? { host: k8s.address.slice(0, k8s.address.lastIndexOf(':')), port: Number(k8s.address.slice(k8s.address.lastIndexOf(':') + 1)) } : undefined;
  const api = new KubeApi(cluster, { dryRun: flags.dryRun, print: (line) => process.stdout.write(`  ${line}\n`) });
  const abort = new AbortController();
  const execute = (trial: PlannedTrial, identity: TrialIdentity, onPhase: (phase: string) => void) =>
    runKubernetesTrial({
      identity, api, onPhase, address, signal: abort.signal,
      workload: createWorkload(trial.workload),
      strategy: createKubernetesStrategy(trial.strategy),
      nodes: async () => (await cluster.core.listNode()).items.map(nodeInfo),
      wantedNodes: k8s,
      forceControlPlane: k8s.forceControlPlane,
      timing: scenario.timing,
      probe: probeOptions({ ...scenario.probe, ...trial.workload.probe }),
    });

  if (flags.dryRun) {
    process.stdout.write(`migbench: dry run of ${args.scenario} against ${cluster.server} (context ${cluster.context}, namespace ${cluster.namespace}): the calls that change the cluster, none of them made\n`);
    // One trial per workload × strategy shows every call; the others repeat them.
    const seen = new Set<string>();
    for (const trial of trials) {
      const key = `${trial.workloadName}/${trial.strategy.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      process.stdout.write(`trial ${trial.trial}: ${trial.workloadName} × ${trial.strategy.name}\n`);
      const result = await execute(trial, { runId, trial: trial.trial, workload: trial.workloadName, strategy: trial.strategy.name, repetition: trial.repetition, warmup: trial.warmup }, () => undefined);
      if (result.status === 'failed') process.stdout.write(`  (the dry run stopped in ${result.failedPhase}: ${result.error})\n`);
    }
    return EXIT_OK;
  }

  const results = new ResultsDir(outDir);
  results.open();
  const info = startRunInfo({
    runId, scenarioFile: resolve(args.scenario), scenario, scenarioSource: loaded.sourceText, startedAt: started,
    versions: { node: process.version, ...(await serverVersion(cluster)) }, plannedTrials: trials.length,
    platform: {
      name: 'kubernetes', server: cluster.server, context: cluster.context, namespace: cluster.namespace,
      nodes: Object.fromEntries(nodes.map((n) => [n.name, [n.controlPlane ? 'control plane' : 'worker', n.schedulable ? '' : 'cordoned'].filter(Boolean).join(', ')])),
    },
  });
  results.writeRunJson(info);
  if (!args.quiet) log(`migbench: run ${runId}: ${trials.length} trials on ${cluster.server} (namespace ${cluster.namespace}) → ${outDir}`);
  const stopHandlingInterrupts = handleInterrupts(abort, log);
  try {
    const runner = new Runner();
    attachProgress(runner, { quiet: args.quiet });
    const summary = await runner.run({
      runId, scenario, trials, signal: abort.signal, execute,
      record: (result, metrics) => {
        results.appendTrial(result, metrics);
        info.trials[result.status === 'ok' ? 'ok' : 'failed']++;
        results.writeRunJson(info);
      },
    });
    if (!args.quiet) process.stdout.write(`\n${summarizeResultsDir(outDir)}\n\nresults: ${outDir}\n`);
    if (abort.signal.aborted) return EXIT_INTERRUPTED;
    return summary.failed > 0 ? EXIT_TRIAL_FAILED : EXIT_OK;
  } finally {
    info.endedAt = new Date().toISOString();
    results.writeRunJson(info);
    stopHandlingInterrupts();
  }
}

/** The operator's resource type must be served, or every podmigration trial would fail the same way. */
async function requirePodmigrationResource(cluster: Cluster): Promise<void> {
  try {
    await cluster.objects.list(PODMIGRATION_API_VERSION, 'Podmigration', cluster.namespace);
  } catch (err) {
    throw new ClusterError(
      `strategies: podmigration: the cluster does not serve ${PODMIGRATION_API_VERSION} Podmigration (${describeApiError(err)}); install the podmigration-operator (or at least its CRD: kubectl apply -f deploy/kubernetes/podmigration-crd.yaml)`,
    );
  }
}

async function serverVersion(cluster: Cluster): Promise<Record<string, string>> {
  try {
    const { VersionApi } = await import('@kubernetes/client-node');
    const version = await cluster.kubeConfig.makeApiClient(VersionApi).getCode();
    return { kubernetes: version.gitVersion };
  } catch {
    return {};
  }
}
