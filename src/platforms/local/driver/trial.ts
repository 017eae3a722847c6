// A trial's steps on the local platform: the workload's volumes and pod on the source node, its
// service pointed at the pod, the strategy moving it through the LocalNodeRuntime interface, and every pod
// the strategy started (track-pods.ts), the service and the volumes removed again afterwards.
import type { LocalNodeRuntime, Pod, Service } from '../node-runtime.ts';
import type { Strategy } from '../../../strategies/entry/strategy.ts';
import type { EventRecorder } from '../../../model/timeline.ts';
import type { Workload } from '../../../workloads/workload.ts';
import { trackPods } from './track-pods.ts';
import { withTestSwitchDelay, type TestSwitchDelay } from '../test-switch-delay.ts';
import type { Deployed, Moved, TrialSteps, TrialTiming } from '../../../runner/trial.ts';
import { describe } from '../../../runner/trial-parts.ts';

export interface LocalTrialSetup {
  platform: LocalNodeRuntime;
  workload: Workload;
  strategy: Strategy;
  from: string;
  to: string;
  timing: TrialTiming;
  /** Test-only injected regression (MIGBENCH_TEST_SWITCH_DELAY_MS); undefined in a real measurement. */
  testSwitchDelay?: TestSwitchDelay;
}

export class LocalTrialSteps implements TrialSteps {
  readonly dryRun = false;
  readonly probesSkipped = false;
  private readonly setup: LocalTrialSetup;
  /** Every pod of the trial, the source first: teardown removes them newest first. */
  private readonly pods: Pod[] = [];
  private service: Service | undefined;

  constructor(setup: LocalTrialSetup) {
    this.setup = setup;
  }

  get strategyName(): string {
    return this.setup.strategy.name;
  }

  async deploy(events: EventRecorder, signal: AbortSignal): Promise<Deployed> {
    const { platform, workload } = this.setup;
    for (const volume of workload.volumes()) await platform.createVolume(volume);
    const pod = await platform.startPod(workload.podSpec(), this.setup.from, events);
    this.pods.push(pod);
    await workload.waitReady({ host: pod.ip, port: workload.port }, this.setup.timing.readyTimeoutMs, signal);
    events.emit('trial', 'pod_ready', pod.name);
    this.service = await platform.createService(workload.name, workload.port);
    await platform.setServiceEndpoint(this.service, pod, events);
    return { address: this.service.address, from: this.setup.from, to: this.setup.to };
  }

  async migrate(events: EventRecorder, signal: AbortSignal): Promise<Moved> {
    const { platform, workload, strategy } = this.setup;
    const outcome = await strategy.migrate({
      platform: trackPods(withTestSwitchDelay(platform, strategy.name, this.setup.testSwitchDelay), (created) => this.pods.push(created)),
      workload,
      pod: this.pods[0]!,
      service: this.service!,
      targetNode: this.setup.to,
      events,
      readyTimeoutMs: this.setup.timing.readyTimeoutMs,
      signal,
    });
    return {
      movedPod: outcome.pod.name,
      ...(outcome.criu ? { criu: outcome.criu } : {}),
      ...(outcome.checkpointBytes !== undefined ? { checkpointBytes: outcome.checkpointBytes } : {}),
    };
  }

  async teardown(signal: AbortSignal): Promise<string[]> {
    const { platform, workload } = this.setup;
    const errors: string[] = [];
    const attempt = async (step: () => Promise<void>) => {
      try {
        await step();
      } catch (err) {
        errors.push(describe(err, signal));
      }
    };
    const service = this.service;
    if (service) await attempt(() => platform.removeService(service));
    for (const pod of [...this.pods].reverse()) await attempt(() => platform.removePod(pod));
    for (const volume of workload.volumes()) await attempt(() => platform.removeVolume(volume));
    return errors;
  }
}
