// `migbench run <scenario>`: validate, make the scenario's platform ready (local: install what is
// missing; kubernetes: check the cluster, reading only), then run every trial and write the results
// as they come. Input problems are reported before anything is created. The platform is chosen
// from the scenario; what is run, written and interrupted lives below, in src/runner/.
import { resolve } from 'node:path';
import { loadScenario, type LoadedScenario, type ScenarioOverrides } from '../scenario/load.ts';
import { planTrials } from '../plan/plan.ts';
import { ClusterError } from '../platforms/kubernetes/cluster.ts';
import { resultsDirProblem } from '../results/results-dir.ts';
import { startRunInfo } from '../results/run-json.ts';
import { handleInterrupts } from '../runner/interrupt.ts';
import { prepareKubernetesRun, type KubernetesFlags } from '../runner/kubernetes-run.ts';
import { prepareLocalRun } from '../runner/local-run.ts';
import { readTestSwitchDelay, TEST_SWITCH_DELAY_ENV } from '../platforms/local/test-switch-delay.ts';
import { Runner, type PreparedRun, type StartedRun } from '../runner/run.ts';
import { makeRunId, scenarioRunName } from '../runner/run-id.ts';
import { RunRecord } from '../runner/run-record.ts';
import { attachProgress } from '../ui/progress.ts';
import { summarizeResultsDir } from '../report/summary.ts';
import { CommandFailure, EXIT_INTERRUPTED, EXIT_OK, EXIT_TRIAL_FAILED, EXIT_USAGE } from './exit-codes.ts';
import { requireRoot } from './root.ts';

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

export async function runCommand(args: RunArgs): Promise<number> {
  const loaded = await loadScenario(args.scenario, args.overrides);
  const { scenario } = loaded;
  const flags = args.kubernetes ?? { dryRun: false };
  if (scenario.platform !== 'kubernetes' && flags.dryRun) {
    throw new CommandFailure('--dry-run: only with platform: kubernetes (a local run changes nothing outside this host; `migbench validate` shows its plan)', EXIT_USAGE);
  }
  const switchDelay = readTestSwitchDelay();
  if (switchDelay.problem) throw new CommandFailure(switchDelay.problem, EXIT_USAGE);
  const started = new Date();
  const runId = makeRunId(started, scenarioRunName(scenario, args.scenario));
  const outDir = resolve(args.out ?? `${scenario.output.dir}/${runId}`);
  // A dry run writes nothing; any other run needs a directory that can take its results.
  const outProblem = flags.dryRun ? undefined : resultsDirProblem(outDir);
  if (outProblem) throw new CommandFailure(outProblem, EXIT_USAGE);
  if (scenario.platform !== 'kubernetes') requireRoot(args.commandLine);
  const trials = planTrials(scenario);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const prepared = await prepareRun(loaded, args, flags, outDir, log);
  if (prepared.dryRun && flags.dryRun) {
    await prepared.dryRun(runId, trials);
    return EXIT_OK;
  }

  const record = new RunRecord(outDir, startRunInfo({
    runId, scenarioFile: resolve(args.scenario), scenario, scenarioSource: loaded.sourceText, startedAt: started,
    versions: await prepared.versions(), plannedTrials: trials.length,
    ...(switchDelay.delay ? { testSwitchDelay: process.env[TEST_SWITCH_DELAY_ENV] } : {}), ...(prepared.platformInfo ? { platform: prepared.platformInfo } : {}),
  }));
  if (!args.quiet) log(`migbench: run ${runId}: ${trials.length} trials${prepared.where} → ${outDir}`);

  const abort = new AbortController();
  const stopHandlingInterrupts = handleInterrupts(abort, log);
  let platform: StartedRun | undefined;
  try {
    platform = await prepared.start();
    if (platform.platformInfo) record.platform(platform.platformInfo);
    const runner = new Runner();
    attachProgress(runner, { quiet: args.quiet });
    const summary = await runner.run({ runId, scenario, trials, platform, signal: abort.signal, record: (result, metrics) => record.trial(result, metrics) });
    if (!args.quiet) process.stdout.write(`\n${summarizeResultsDir(outDir)}\n\nresults: ${outDir}\n`);
    if (abort.signal.aborted) return EXIT_INTERRUPTED;
    return summary.failed > 0 ? EXIT_TRIAL_FAILED : EXIT_OK;
  } finally {
    await platform?.close().catch((err) => log(`migbench: cleanup failed: ${String(err)}; run \`migbench cleanup\``));
    record.end();
    stopHandlingInterrupts();
  }
}

/** The scenario's platform, checked and ready to start; a cluster problem is bad input (exit 2). */
async function prepareRun(loaded: LoadedScenario, args: RunArgs, flags: KubernetesFlags, outDir: string, log: (line: string) => void): Promise<PreparedRun> {
  if (loaded.scenario.platform !== 'kubernetes') return prepareLocalRun(loaded, { outDir, commandLine: args.commandLine, log });
  try {
    return await prepareKubernetesRun(loaded, flags, args.scenario);
  } catch (err) {
    if (err instanceof ClusterError) throw new CommandFailure(err.message, EXIT_USAGE);
    throw err;
  }
}
