// `migbench run <scenario>`: validate, install what is missing, then run every trial and write the
// results as they come. Input problems are reported before anything is created on the host.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadScenario, type ScenarioOverrides } from '../scenario/load.ts';
import { planTrials } from '../plan/plan.ts';
import { ensurePrerequisites, toolVersions } from '../setup/prerequisites.ts';
import { ensureWorkloadPrerequisites } from '../setup/workload-prerequisites.ts';
import { LocalPlatform } from '../platforms/local/local-platform.ts';
import { ResultsDir } from '../results/results-dir.ts';
import { collectHostInfo, gitCommit, type RunInfo } from '../results/run-json.ts';
import { Runner } from '../runner/run.ts';
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
}

export function makeRunId(now: Date, scenarioName: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${scenarioName}`;
}

export async function runCommand(args: RunArgs): Promise<number> {
  const loaded = await loadScenario(args.scenario, args.overrides);
  const { scenario } = loaded;
  const scenarioName = scenario.name ?? args.scenario.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const started = new Date();
  const runId = makeRunId(started, scenarioName);
  const outDir = resolve(args.out ?? `${scenario.output.dir}/${runId}`);
  if (existsSync(`${outDir}/trials.csv`)) {
    throw new CommandFailure(`--out ${outDir}: already holds results (trials.csv); choose another directory — results are never overwritten`, EXIT_USAGE);
  }
  requireRoot(args.commandLine);
  const trials = planTrials(scenario);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const tools = await ensurePrerequisites(log, args.commandLine);
  const workloadVersions = await ensureWorkloadPrerequisites(scenario.workloads.map((w) => w.type), log);

  const results = new ResultsDir(outDir);
  results.open();
  const info: RunInfo = {
    runId,
    scenarioFile: resolve(args.scenario),
    scenario,
    scenarioSource: loaded.sourceText,
    startedAt: started.toISOString(),
    endedAt: null,
    host: collectHostInfo(),
    versions: { ...(await toolVersions(tools)), ...workloadVersions },
    gitCommit: gitCommit(resolve(import.meta.dirname, '..', '..')),
    argv: process.argv.slice(2),
    trials: { planned: trials.length, ok: 0, failed: 0 },
  };
  results.writeRunJson(info);
  if (!args.quiet) log(`migbench: run ${runId}: ${trials.length} trials → ${outDir}`);

  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      log(`\nmigbench: ${signal}: stopping after cleaning up (the current trial is torn down; Ctrl-C again to skip waiting is unsafe)`);
      abort.abort(new Error(signal));
    } else {
      log('migbench: still cleaning up; leftovers can be removed with `migbench cleanup`');
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let platform: LocalPlatform | undefined;
  try {
    platform = await LocalPlatform.create({
      nodes: scenario.nodes,
      subnet: scenario.local.subnet,
      checkpointDir: scenario.local.checkpointDir,
      logDir: `${outDir}/pods`,
      tools: { runc: tools.runc, criu: tools.criu, iptables: tools.iptables, ip: tools.ip },
      log,
    });
    info.platform = { name: 'local', nodes: Object.fromEntries(platform.cpusets), subnet: scenario.local.subnet, checkpointDir: scenario.local.checkpointDir };
    results.writeRunJson(info);
    const runner = new Runner();
    attachProgress(runner, { quiet: args.quiet });
    const summary = await runner.run({
      runId, scenario, trials, platform, from: loaded.migration.from, to: loaded.migration.to, signal: abort.signal,
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
    await platform?.close().catch((err) => log(`migbench: cleanup failed: ${String(err)}; run \`migbench cleanup\``));
    info.endedAt = new Date().toISOString();
    results.writeRunJson(info);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
