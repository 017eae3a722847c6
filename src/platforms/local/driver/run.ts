// A run on the local platform: what it needs on this host is installed first (CRIU, runc, the
// workloads' packages: a missing one fails before anything is created), then the platform is
// created — the host lock, the bridge, the NAT chains — and each trial runs as LocalTrialSteps.
import type { RunRequest } from '../../../runner/platform-driver.ts';
import type { PreparedRun, StartedRun } from '../../../runner/run.ts';
import { createStrategy } from '../../../strategies/registry.ts';
import { LocalPlatform } from '../local-platform.ts';
import { readTestSwitchDelay } from '../test-switch-delay.ts';
import type { HostTools } from './host-tools.ts';
import { LocalTrialSteps } from './trial.ts';
import { LocalEvacuationSteps } from './evacuation.ts';

export async function prepareLocalRun(request: RunRequest, hostTools: HostTools): Promise<PreparedRun> {
  const { scenario, migration } = request.loaded;
  const { log } = request;
  const { tools, versions } = await hostTools.ensure(
    scenario.workloads.map((w) => w.type),
    log,
    request.commandLine,
  );
  const { delay: testSwitchDelay } = readTestSwitchDelay();
  const nodeLink = scenario.local.nodeLink ? { nodeLinkMbit: scenario.local.nodeLink.bandwidthMbit } : {};
  return {
    versions,
    where: '',
    async start(): Promise<StartedRun> {
      const platform = await LocalPlatform.create({
        nodes: scenario.nodes,
        subnet: scenario.local.subnet,
        checkpointDir: scenario.local.checkpointDir,
        checkpointStore: scenario.local.checkpointStore,
        runtime: scenario.local.runtime,
        criuKernelCache: scenario.local.criuKernelCache,
        ...nodeLink,
        logDir: `${request.outDir}/pods`,
        tools,
        log,
      });
      return {
        platformInfo: {
          name: 'local',
          nodes: Object.fromEntries(platform.cpusets),
          subnet: scenario.local.subnet,
          checkpointDir: scenario.local.checkpointDir,
          checkpointStore: scenario.local.checkpointStore,
          runtime: scenario.local.runtime,
          ...(platform.kernelCache ? { criuKernelCache: platform.kernelCache.state } : {}),
          ...nodeLink,
        },
        unsupportedReason: async (strategy) => createStrategy(strategy).unsupportedReason?.(platform),
        trialSteps: (trial, _identity, workload) =>
          new LocalTrialSteps({
            platform,
            workload,
            strategy: createStrategy(trial.strategy),
            from: migration.from,
            to: migration.to,
            timing: scenario.timing,
            ...(testSwitchDelay ? { testSwitchDelay } : {}),
          }),
        evacuationSteps: (trials, workloads) =>
          new LocalEvacuationSteps({
            platform,
            from: migration.from,
            timing: scenario.timing,
            pods: trials.map((trial, i) => ({
              workload: workloads[i]!,
              target: trial.evacuation?.target ?? migration.to,
              strategy: createStrategy(trial.strategy),
            })),
          }),
        close: () => platform.close(),
      };
    },
  };
}
