// `migbench run <scenario>`: validate, install what is missing, then run every trial and write the
// results as they come. Input problems are reported before anything is created on the host.
import { resolve } from 'node:path';
import { loadScenario, type ScenarioOverrides } from '../scenario/load.ts';
import { planTrials } from '../plan/plan.ts';
import { ensurePrerequisites, toolVersions } from '../setup/prerequisites.ts';
import { ensureWorkloadPrerequisites } from '../setup/workload-prerequisites.ts';
import { LocalPlatform } from '../platforms/local/local-platform.ts';
import { ResultsDir, resultsDirProblem } from '../results/results-dir.ts';
import { startRunInfo } from '../results/run-json.ts';
import { Runner } from '../runner/run.ts';
import { attachProgress } from '../ui/progress.ts';
import { summarizeResultsDir } from '../report/summary.ts';
import { CommandFailure, EXIT_INTERRUPTED, EXIT_OK, EXIT_TRIAL_FAILED, EXIT_USAGE } from './exit-codes.ts';
import { requireRoot } from './root.ts';
import { handleInterrupts } from './interrupt.ts';
import { runKubernetesCommand, type KubernetesFlags } from './run-kubernetes.ts';

export interface RunArgs {
  scenario: string;
  out?: string;
  quiet: boolean;
  overrides: ScenarioOverrides;
  /** The command line as the user typed it, for messages that say what to run. */
  commandLine: string;
  /** kubernetes platform: print the API calls instead of making them; cluster flags over the scenario's. */
  kubernetes?: KubernetesFlags;
}

export function makeRunId(now: Date, scenarioName: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${scenarioName}`;
}

export async function runCommand(args: RunArgs): Promise<number> {
  const loaded = await loadScenario(args.scenario, args.overrides);
  const { scenario } = loaded;
  if (scenario.platform === 'kubernetes') return runKubernetesCommand(args, args.kubernetes ?? { dryRun: false }, loaded);
  if (args.kubernetes?.dryRun) throw new CommandFailure('--dry-run: only with platform: kubernetes (a local run changes nothing outside this host; `migbench validate` shows its plan)', EXIT_USAGE);
  const scenarioName = scenario.name ?? args.scenario.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const started = new Date();
  const runId = makeRunId(started, scenarioName);
  const outDir = resolve(args.out ?? `${scenario.output.dir}/${runId}`);
  const outProblem = resultsDirProblem(outDir);
  if (outProblem) throw new CommandFailure(outProblem, EXIT_USAGE);
  requireRoot(args.commandLine);
  const trials = planTrials(scenario);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const tools = await ensurePrerequisites(log, args.commandLine);
  const workloadVersions = await ensureWorkloadPrerequisites(scenario.workloads.map((w) => w.type), log);

  const results = new ResultsDir(outDir);
  results.open();
  const info = startRunInfo({
    runId, scenarioFile: resolve(args.scenario), scenario, scenarioSource: loaded.sourceText, startedAt: started,
    versions: { ...(await toolVersions(tools)), ...workloadVersions }, plannedTrials: trials.length,
  });
  results.writeRunJson(info);
  if (!args.quiet) log(`migbench: run ${runId}: ${trials.length} trials → ${outDir}`);

  const abort = new AbortController();
  const stopHandlingInterrupts = handleInterrupts(abort, log);

  let platform: LocalPlatform | undefined;
  try {
    platform = await LocalPlatform.create({
      nodes: scenario.nodes,
      subnet: scenario.local.subnet,
      checkpointDir: scenario.local.checkpointDir,
      checkpointStore: scenario.local.checkpointStore,
      ...(scenario.local.nodeLink ? { nodeLinkMbit: scenario.local.nodeLink.bandwidthMbit } : {}),
      logDir: `${outDir}/pods`,
      tools: { runc: tools.runc, criu: tools.criu, iptables: tools.iptables, ip: tools.ip },
      log,
    });
    info.platform = { name: 'local', nodes: Object.fromEntries(platform.cpusets), subnet: scenario.local.subnet, checkpointDir: scenario.local.checkpointDir,
      checkpointStore: scenario.local.checkpointStore, ...(scenario.local.nodeLink ? { nodeLinkMbit: scenario.local.nodeLink.bandwidthMbit } : {}) };
    results.writeRunJson(info);
    const runner = new Runner();
    attachProgress(runner, { quiet: args.quiet });
    const summary = await runner.run({
      runId, scenario, trials, platform, from: loaded.migration.from, to: loaded.migration.to, signal: abort.signal,
      record: (result, metrics) => {
        results.appendTrial(result, metrics);
        if (result.status === 'unsupported') info.trials.unsupported = (info.trials.unsupported ?? 0) + 1;
        else info.trials[result.status]++;
        results.writeRunJson(info);
      },
    });
    if (!args.quiet) process.stdout.write(`\n${summarizeResultsDir(outDir)}\n\nresults: ${outDir}\n`);
    if (abort.signal.aborted) return EXIT_INTERRUPTED;
    return summary.failed > 0 ? EXIT_TRIAL_FAILED : EXIT_OK;
  } finally {
    await platform?.close().catch((err) => log(`migbench: cleanup failed: ${String(err)}; run \`migbench cleanup\``));
    info.endedAt = new Date().toISOString();
    results.writeRunJson(info);
    stopHandlingInterrupts();
  }
}
