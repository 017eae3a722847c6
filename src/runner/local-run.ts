// A run on the local platform: what it needs on this host is installed first (CRIU, runc, the
// workloads' packages: a missing one fails before anything is created), then the platform is
// created — the host lock, the bridge, the NAT chains — and each trial runs as LocalTrialSteps.
import type { LoadedScenario } from '../scenario/load.ts';
import { ensurePrerequisites, toolVersions } from '../setup/prerequisites.ts';
import { ensureWorkloadPrerequisites } from '../setup/workload-prerequisites.ts';
import { LocalPlatform } from '../platforms/local/local-platform.ts';
import { createStrategy } from '../strategies/registry.ts';
import { LocalTrialSteps } from './local-trial.ts';
import { readTestSwitchDelay } from '../platforms/local/test-switch-delay.ts';
import type { PreparedRun, StartedRun } from './run.ts';

export async function prepareLocalRun(loaded: LoadedScenario, options: { outDir: string; commandLine: string; log: (line: string) => void }): Promise<PreparedRun> {
  const { scenario, migration } = loaded;
  const { log } = options;
  const tools = await ensurePrerequisites(log, options.commandLine);
  const workloadVersions = await ensureWorkloadPrerequisites(scenario.workloads.map((w) => w.type), log);
  const { delay: testSwitchDelay } = readTestSwitchDelay();
  const nodeLink = scenario.local.nodeLink ? { nodeLinkMbit: scenario.local.nodeLink.bandwidthMbit } : {};
  return {
    versions: async () => ({ ...(await toolVersions(tools)), ...workloadVersions }),
    where: '',
    async start(): Promise<StartedRun> {
      const platform = await LocalPlatform.create({
        nodes: scenario.nodes,
        subnet: scenario.local.subnet,
        checkpointDir: scenario.local.checkpointDir,
        checkpointStore: scenario.local.checkpointStore,
        runtime: scenario.local.runtime,
        ...nodeLink,
        logDir: `${options.outDir}/pods`,
        tools: { runc: tools.runc, criu: tools.criu, iptables: tools.iptables, ip: tools.ip },
        log,
      });
      return {
        platformInfo: {
          name: 'local', nodes: Object.fromEntries(platform.cpusets), subnet: scenario.local.subnet, checkpointDir: scenario.local.checkpointDir,
          checkpointStore: scenario.local.checkpointStore, runtime: scenario.local.runtime, ...nodeLink,
        },
        unsupportedReason: async (strategy) => createStrategy(strategy).unsupportedReason?.(platform),
        trialSteps: (trial, _identity, workload) =>
          new LocalTrialSteps({ platform, workload, strategy: createStrategy(trial.strategy), from: migration.from, to: migration.to, timing: scenario.timing, ...(testSwitchDelay ? { testSwitchDelay } : {}) }),
        close: () => platform.close(),
      };
    },
  };
}
