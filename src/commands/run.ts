// `migbench run <scenario>`: validate, make the scenario's platform ready (local: install what is
// missing; kubernetes: check the cluster, reading only), then run every trial and write the results
// as they come. Input problems are reported before anything is created, all of them at once. The
// platform's driver is chosen from the scenario (platforms/registry.ts); what is run, written and
// interrupted lives below, in src/runner/.
import { resolve } from 'node:path';
import { loadScenario, type ScenarioOverrides } from '../scenario/load.ts';
import { planTrials } from '../plan/plan.ts';
import { resultsDirProblem } from '../results/results-dir.ts';
import { startRunInfo } from '../results/run-json.ts';
import { handleInterrupts } from '../runner/interrupt.ts';
import { readTestSwitchDelay, TEST_SWITCH_DELAY_ENV } from '../platforms/local/test-switch-delay.ts';
import type { ClusterFlags, RunRequest } from '../runner/platform-driver.ts';
import { Runner, type StartedRun } from '../runner/run.ts';
import { makeRunId, scenarioRunName } from '../runner/run-id.ts';
import { RunRecord } from '../runner/run-record.ts';
import { attachProgress } from '../ui/progress.ts';
import { summarizeResultsDir } from '../report/summary.ts';
import { CommandFailure, EXIT_INTERRUPTED, EXIT_OK, EXIT_TRIAL_FAILED, EXIT_USAGE } from './exit-codes.ts';
import { hostPlatformDrivers } from './platform-support.ts';

export interface RunArgs {
  scenario: string;
  out?: string;
  quiet: boolean;
  overrides: ScenarioOverrides;
  /** The command line as the user typed it, for messages that say what to run. */
  commandLine: string;
  /** Print the calls that would change the platform instead of making them (kubernetes). */
  dryRun?: boolean;
  /** kubernetes: cluster flags over the scenario's. */
  cluster?: ClusterFlags;
}

export async function runCommand(args: RunArgs): Promise<number> {
  const loaded = await loadScenario(args.scenario, args.overrides);
  const { scenario } = loaded;
  const dryRun = args.dryRun ?? false;
  const switchDelay = readTestSwitchDelay();
  if (switchDelay.problem) throw new CommandFailure(switchDelay.problem, EXIT_USAGE);
  const started = new Date();
  const runId = makeRunId(started, scenarioRunName(scenario, args.scenario));
  const outDir = resolve(args.out ?? `${scenario.output.dir}/${runId}`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const request: RunRequest = {
    loaded,
    scenarioFile: args.scenario,
    outDir,
    commandLine: args.commandLine,
    dryRun,
    cluster: args.cluster ?? {},
    log,
    output: (line) => process.stdout.write(`${line}\n`),
  };
  const driver = hostPlatformDrivers()[scenario.platform];
  // A dry run writes nothing; any other run needs a directory that can take its results.
  const outProblem = dryRun ? undefined : resultsDirProblem(outDir);
  const problems = [...(outProblem ? [outProblem] : []), ...(await driver.validate(request))];
  if (problems.length > 0) throw new CommandFailure(problems.join('\n'), EXIT_USAGE);
  const trials = planTrials(scenario);
  const prepared = await driver.prepare(request);
  if (prepared.dryRun && dryRun) {
    await prepared.dryRun(runId, trials);
    return EXIT_OK;
  }

  const record = new RunRecord(
    outDir,
    startRunInfo({
      runId,
      scenarioFile: resolve(args.scenario),
      scenario,
      scenarioSource: loaded.sourceText,
      startedAt: started,
      versions: await prepared.versions(),
      plannedTrials: trials.length,
      ...(switchDelay.delay ? { testSwitchDelay: process.env[TEST_SWITCH_DELAY_ENV] } : {}),
      ...(prepared.platformInfo ? { platform: prepared.platformInfo } : {}),
    }),
  );
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
