// An evacuation's steps on a cluster, as `kubectl drain` and node maintenance do it: every pod of
// the evacuation (each its own Deployment or pod, Service and claims, named with the run and its
// trial: evacuation-manifests.ts) starts on the source node; at the trigger the source is cordoned
// once for the whole evacuation (only if it was schedulable: a node someone else cordoned stays
// theirs), each pod is moved by the strategy — a drain evicts it through the Eviction API
// (PodDisruptionBudgets honoured) and the scheduler places the replacement, the CRIU strategy and
// redeploy move it to its target — and the source is uncordoned once the last pod moved or failed,
// Ctrl-C included. Only the evacuation's own pods are evicted: DaemonSet pods (the node agent's)
// and anything else on the node stay, as `kubectl drain --ignore-daemonsets` leaves them.
import type { EvacuationSteps } from '../../../runner/evacuation.ts';
import type { EventRecorder } from '../../../model/timeline.ts';
import { describe } from '../../../runner/trial-parts.ts';
import type { KubeApi } from '../api.ts';
import type { KubernetesTrialSteps } from './trial.ts';

const SOURCE = 'evacuation';

export class KubernetesEvacuationSteps implements EvacuationSteps {
  readonly probesSkipped: boolean;
  private readonly api: KubeApi;
  private readonly runId: string;
  private readonly source: string;
  private readonly pods: KubernetesTrialSteps[];
  /** This evacuation cordoned the source (and so uncordons it at the end). */
  private cordoned = false;

  /** `pods(sourceCordoned)`: each pod's trial steps, told whether the evacuation holds the source's cordon. */
  constructor(setup: { api: KubeApi; runId: string; source: string; pods: (sourceCordoned: () => boolean) => KubernetesTrialSteps[] }) {
    this.api = setup.api;
    this.runId = setup.runId;
    this.source = setup.source;
    this.pods = setup.pods(() => this.cordoned);
    this.probesSkipped = this.pods[0]!.probesSkipped;
  }

  get strategyName(): string {
    return this.pods[0]!.strategyName;
  }

  deploy(index: number, events: EventRecorder, signal: AbortSignal) {
    return this.pods[index]!.deploy(events, signal);
  }

  async begin(events: EventRecorder): Promise<void> {
    const node = await this.api.cluster.core.readNode({ name: this.source }).catch(() => undefined);
    if (this.api.dryRun || node?.spec?.unschedulable !== true) {
      await this.api.setUnschedulable(this.source, true, this.runId);
      this.cordoned = true;
      events.emit(SOURCE, 'node_cordoned', this.source);
    } else events.emit(SOURCE, 'node_already_cordoned', `${this.source}: left as it is`);
  }

  migrate(index: number, events: EventRecorder, signal: AbortSignal) {
    return this.pods[index]!.migrate(events, signal);
  }

  async end(events: EventRecorder): Promise<void> {
    if (!this.cordoned) return;
    try {
      await this.api.setUnschedulable(this.source, false, this.runId);
      this.cordoned = false;
      events.emit(SOURCE, 'node_uncordoned', this.source);
    } catch (err) {
      // `migbench cleanup` uncordons it (the cordon carries this run's annotation).
      events.emit(SOURCE, 'uncordon_failed', `${this.source}: ${describe(err, new AbortController().signal)}`);
    }
  }

  /** Each pod's teardown, the last deployed first; every failure listed. */
  async teardown(): Promise<string[]> {
    const errors: string[] = [];
    for (const pod of [...this.pods].reverse()) errors.push(...(await pod.teardown()));
    return errors;
  }
}
