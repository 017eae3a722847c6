// A trial's steps on a cluster: the workload's manifest applied server-side, readiness and every
// pod's lifecycle from a watch on the trial's pods (started before anything is created, so the
// first pod's whole life is on the timeline), the strategy asking the cluster to move the pod, and
// everything the trial or the strategy created deleted again. App probes run when the scenario gives
// the Service's address; without it (a simulated cluster's pods run no app) the trial measures the
// pod lifecycle only and says so. A dry run prints the calls that would change the cluster.
import type { KubeApi, K8sObject } from '../api.ts';
import { chooseNodes, type NodeInfo, type WantedNodes } from '../cluster.ts';
import type { CheckpointNodes } from '../checkpoint-nodes.ts';
import type { KubeletApi } from '../kubelet-api.ts';
import { labelValue, prepareManifests, readWorkloadManifests, type TrialManifests } from '../manifests.ts';
import { withWorkloadImage } from '../images.ts';
import { waitForServiceEndpoint, type Exposure } from '../service-exposure.ts';
import { waitForClaimsGone } from '../storage.ts';
import { dryRunPods, PodWatch, type PodWaiter, type WatchedPod } from '../pod-watch.ts';
import { OutageBreakdown } from './outage-breakdown.ts';
import { isServing, type KubernetesStrategy } from '../../../strategies/entry/kubernetes-strategy.ts';
import type { EventRecorder } from '../../../model/timeline.ts';
import type { Workload } from '../../../workloads/workload.ts';
import type { Deployed, Moved, TrialSteps, TrialTiming } from '../../../runner/trial.ts';
import { describe } from '../../../runner/trial-parts.ts';

/** Grace period of the pods a trial's teardown deletes (the measurement is over; no need to wait 30 s). */
const TEARDOWN_GRACE_SECONDS = 1;

export interface KubernetesTrialSetup {
  runId: string;
  trial: number;
  api: KubeApi;
  workload: Workload;
  strategy: KubernetesStrategy;
  /** The cluster's nodes now (read once per trial: a node may have been cordoned meanwhile). */
  nodes: () => Promise<NodeInfo[]>;
  /** Where the scenario lets the pods run (its nodes, nodeSelector, tolerations). */
  wantedNodes: WantedNodes;
  forceControlPlane: boolean;
  timing: TrialTiming;
  /** The workload's image pinned by digest (kubernetes.images) and the pull secrets; default: the manifest's image. */
  image?: { reference?: string; pullSecrets: readonly string[] };
  /** The claims' StorageClass (kubernetes.storageClass). */
  storageClass?: string;
  /** Over the app container's readiness probe (kubernetes.readinessProbe). */
  readinessProbe?: { periodSeconds?: number; initialDelaySeconds?: number };
  /** How the probes reach the Service; undefined: app probes skipped (pod lifecycle only). */
  exposure?: Exposure;
  /** How this cluster runs a workload's manifest (the real-node cluster: realNodeManifests); default as it is. */
  adaptManifests?: (objects: K8sObject[]) => K8sObject[];
  /** kubelet's API on the nodes, and what migbench can do on the nodes themselves (kubelet-checkpoint). */
  kubelet?: KubeletApi;
  checkpointNodes?: CheckpointNodes;
  /**
   * One pod of an evacuation (driver/evacuation.ts): it starts on `source` (never swapped for the
   * target), moves to `target` — undefined: a drain's replacement goes where the scheduler puts it,
   * among `replacementNodes` — and the source is cordoned by the evacuation, not by the strategy.
   */
  evacuation?: { source: string; target?: string; replacementNodes: string[]; sourceCordoned: () => boolean };
}

export class KubernetesTrialSteps implements TrialSteps {
  readonly dryRun: boolean;
  readonly probesSkipped: boolean;
  private readonly setup: KubernetesTrialSetup;
  private watch: PodWatch | undefined;
  private selector: string | undefined;
  private readonly applied: K8sObject[] = [];
  private readonly created: K8sObject[] = [];
  /** What the strategy left outside the API, removed once the trial's pods are gone. */
  private readonly leftOnNodes: { what: string; remove: () => Promise<string[]> }[] = [];
  /** Known once deployed: what migrate() needs. */
  private deployed: { manifests: TrialManifests; pods: PodWaiter; pod: WatchedPod; sourceNode: NodeInfo; target: string } | undefined;
  /** The moved pod's chain of control loops (outage-breakdown.ts), when the probes reach the Service; recorded at teardown. */
  private breakdown: { collector: OutageBreakdown; moved?: { uid: string; node?: string; events: EventRecorder; triggerAt: number } } | undefined;

  constructor(setup: KubernetesTrialSetup) {
    this.setup = setup;
    this.dryRun = setup.api.dryRun;
    this.probesSkipped = setup.exposure === undefined;
  }

  /** The trial's key among the run's: its files and images on the nodes are named by it. */
  private get trialKey(): string {
    return `${labelValue(this.setup.runId)}/${this.setup.trial}`;
  }

  get strategyName(): string {
    return this.setup.strategy.name;
  }

  async deploy(events: EventRecorder, signal: AbortSignal): Promise<Deployed> {
    const { api, workload, strategy, exposure } = this.setup;
    const nodes = await this.setup.nodes();
    const { evacuation } = this.setup;
    let { source, target } = evacuation ? { source: evacuation.source, target: evacuation.target ?? '' } : chooseNodes(nodes, this.setup.wantedNodes);
    const original = withWorkloadImage(readWorkloadManifests(workload.type), this.setup.image?.reference, this.setup.image?.pullSecrets ?? []);
    const manifests = prepareManifests(this.setup.adaptManifests ? this.setup.adaptManifests(original) : original, {
      namespace: api.namespace,
      runId: this.setup.runId,
      trial: this.setup.trial,
      shape: strategy.shape,
      source,
      target,
      app: workload.podSpec(),
      ...(exposure ? { exposure } : {}),
      ...(this.setup.wantedNodes.tolerations ? { tolerations: this.setup.wantedNodes.tolerations } : {}),
      ...(this.setup.wantedNodes.nodeSelector ? { nodeSelector: this.setup.wantedNodes.nodeSelector } : {}),
      ...(this.setup.storageClass ? { storageClass: this.setup.storageClass } : {}),
      ...(evacuation ? { replacementNodes: evacuation.target ? [evacuation.target] : evacuation.replacementNodes } : {}),
      ...(this.setup.readinessProbe ? { readinessProbe: this.setup.readinessProbe } : {}),
      ...(strategy.podAnnotations
        ? {
            podAnnotations: strategy.podAnnotations({
              trialKey: this.trialKey,
              ...(this.setup.checkpointNodes ? { checkpointNodes: this.setup.checkpointNodes } : {}),
            }),
          }
        : {}),
    });
    this.selector = manifests.podSelector;
    // The watch starts before anything is created, so the first pod's whole life is on the timeline.
    if (!this.dryRun) this.watch = await PodWatch.start(api.cluster, this.selector, events);
    const pods: PodWaiter = this.watch ?? dryRunPods;
    let service: K8sObject | undefined;
    for (const object of manifests.objects) {
      this.applied.push(object);
      const applied = await api.apply(object);
      // As the API server holds it: with the nodePort it allocated.
      if (object.kind === 'Service') service = applied;
    }
    const owner = manifests.owner;
    const pod = await pods.waitForPod(
      owner.kind === 'Pod' ? `pod ${owner.metadata.name}` : `pod of ${owner.kind} ${owner.metadata.name}`,
      isServing,
      this.setup.timing.readyTimeoutMs,
      signal,
    );
    events.emit('trial', 'pod_ready', `${pod.name} on ${pod.node}`);
    if (evacuation && !this.dryRun && pod.node !== source)
      // Preferred, not required (a Deployment's replacement must be free to go elsewhere): a busy source may lose the score.
      throw new Error(
        `the scheduler put ${pod.name} on ${pod.node}, not on ${source}, the node the evacuation empties (it prefers ${source}; is ${source} full?)`,
      );
    if (!this.dryRun && pod.node !== source) {
      // A Deployment's pod may go to either node of the pair; the scheduler preferred the other one.
      [source, target] = [target, source];
      events.emit('trial', 'nodes_swapped', `the scheduler put ${pod.name} on ${pod.node}: it moves to ${target}`);
    }
    // Where the probes reach the Service (not in a dry run: nothing was created to read back).
    const sourceAddress = nodes.find((n) => n.name === source)?.internalIp;
    const address =
      exposure && service && !this.dryRun
        ? await waitForServiceEndpoint(api, service, exposure, sourceAddress, this.setup.timing.readyTimeoutMs, signal)
        : undefined;
    if (address) await workload.waitReady(address, this.setup.timing.readyTimeoutMs, signal);
    if (address && service && this.watch) {
      const probedNode = nodes.find((n) => n.internalIp === address.host)?.name;
      this.breakdown = { collector: await OutageBreakdown.start(api.cluster, service.metadata.name, probedNode) };
    }
    this.deployed = { manifests, pods, pod, sourceNode: nodes.find((n) => n.name === source)!, target };
    return { address, from: source, to: target };
  }

  async migrate(events: EventRecorder, signal: AbortSignal): Promise<Moved> {
    const { manifests, pods, pod, sourceNode, target } = this.deployed!;
    const triggerAt = performance.now();
    this.breakdown?.collector.startProxyPolling();
    const outcome = await this.setup.strategy.migrate({
      api: this.setup.api,
      pods,
      runId: this.setup.runId,
      manifests,
      sourcePod: pod,
      // An evacuation's source is cordoned once for all its pods: a drain neither cordons it again nor uncordons it under the others.
      sourceNode: this.setup.evacuation?.sourceCordoned() ? { ...sourceNode, schedulable: false } : sourceNode,
      targetNode: target,
      events,
      readyTimeoutMs: this.setup.timing.readyTimeoutMs,
      signal,
      forceControlPlane: this.setup.forceControlPlane,
      created: (o) => this.created.push(o),
      onTeardown: (what, remove) => this.leftOnNodes.push({ what, remove }),
      trialKey: this.trialKey,
      ...(this.setup.kubelet ? { kubelet: this.setup.kubelet } : {}),
      ...(this.setup.checkpointNodes ? { checkpointNodes: this.setup.checkpointNodes } : {}),
    });
    if (this.breakdown) this.breakdown.moved = { uid: outcome.pod.uid, ...(outcome.pod.node ? { node: outcome.pod.node } : {}), events, triggerAt };
    return {
      movedPod: `${outcome.pod.name} on ${outcome.pod.node}`,
      ...(outcome.pod.node ? { node: outcome.pod.node } : {}),
      ...(outcome.operator ? { operator: outcome.operator } : {}),
      ...(outcome.criu ? { criu: outcome.criu } : {}),
      ...(outcome.checkpointBytes !== undefined ? { checkpointBytes: outcome.checkpointBytes } : {}),
    };
  }

  async teardown(): Promise<string[]> {
    const { api } = this.setup;
    const errors: string[] = [];
    // Not the run's signal: an interrupted trial is torn down all the same.
    const teardownSignal = new AbortController().signal;
    // After the observation: kube-proxy's sync may come after the strategy returned.
    if (this.breakdown) {
      const { collector, moved } = this.breakdown;
      this.breakdown = undefined;
      try {
        await collector.finish(moved?.events, this.watch, moved?.uid, moved?.node, moved?.triggerAt ?? 0);
      } catch (err) {
        errors.push(`the outage breakdown: ${describe(err, teardownSignal)}`);
      }
    }
    const toDelete = [...this.created, ...this.applied]
      .reverse()
      .filter((o, i, all) => all.findIndex((p) => p.kind === o.kind && p.metadata.name === o.metadata.name) === i);
    for (const object of toDelete) {
      try {
        await api.delete(object, object.kind === 'Pod' ? TEARDOWN_GRACE_SECONDS : undefined);
      } catch (err) {
        errors.push(`deleting ${object.kind} ${object.metadata.name}: ${describe(err, teardownSignal)}`);
      }
    }
    const { watch, selector } = this;
    if (watch && selector) {
      try {
        // The Deployment's pods are deleted by the garbage collector; the next trial starts once they are gone.
        for (const p of await api.listPods(selector)) await api.deletePod(p.metadata!.name!, TEARDOWN_GRACE_SECONDS);
        await watch.waitFor(
          "the trial's pods to be gone",
          (all) => (all.every((p) => p.deleted) ? true : undefined),
          this.setup.timing.readyTimeoutMs,
          teardownSignal,
        );
      } catch (err) {
        errors.push(describe(err, teardownSignal));
      }
      watch.stop();
    }
    // The claims, once no pod holds them: the next trial makes them again under the same names.
    const claims = this.applied.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name);
    if (claims.length > 0 && !this.dryRun) {
      try {
        await waitForClaimsGone(api, claims, this.setup.timing.readyTimeoutMs, teardownSignal);
      } catch (err) {
        errors.push(describe(err, teardownSignal));
      }
    }
    // Files and images on the nodes, once no pod uses them any more.
    for (const left of this.leftOnNodes.reverse()) {
      try {
        errors.push(...(await left.remove()).map((line) => `${left.what}: ${line}`));
      } catch (err) {
        errors.push(`removing ${left.what}: ${describe(err, teardownSignal)}`);
      }
    }
    return errors;
  }
}
