// One trial on a cluster: the same phases and the same TrialResult as a local trial (trial.ts) —
// deploy → prepare → settle → migrate → observe → verify → teardown — with the cluster doing what
// the local platform does itself: the workload's manifest is applied server-side, readiness and
// every pod's lifecycle come from a watch on the trial's pods, and the strategy asks the cluster to
// move the pod. App probes run when the scenario gives the Service's address; without it (a
// simulated cluster's pods run no app) the trial measures the pod lifecycle only and says so.
import { sleep, systemClock, type Clock } from '../clock.ts';
import type { Endpoint } from '../platforms/platform.ts';
import { KubeApi, type K8sObject } from '../platforms/kubernetes/api.ts';
import { chooseNodes, type NodeInfo } from '../platforms/kubernetes/cluster.ts';
import { prepareManifests, readWorkloadManifests } from '../platforms/kubernetes/manifests.ts';
import { dryRunPods, PodWatch, type PodWaiter } from '../platforms/kubernetes/pod-watch.ts';
import type { ProbeOptions } from '../probes/probe.ts';
import type { TrialIdentity, TrialResult } from '../results/trial-result.ts';
import { isServing, type KubernetesStrategy } from '../strategies/kubernetes-strategy.ts';
import type { Workload } from '../workloads/workload.ts';
import { describe, type TrialTiming } from './trial.ts';
import { ProbeSession, TrialLog, type Phase } from './trial-parts.ts';

/** Grace period of the pods a trial's teardown deletes (the measurement is over; no need to wait 30 s). */
const TEARDOWN_GRACE_SECONDS = 1;

export interface KubernetesTrialSetup {
  identity: TrialIdentity;
  api: KubeApi;
  workload: Workload;
  strategy: KubernetesStrategy;
  /** The cluster's nodes now (read once per trial: a node may have been cordoned meanwhile). */
  nodes: () => Promise<NodeInfo[]>;
  wantedNodes: { sourceNode?: string; targetNode?: string };
  forceControlPlane: boolean;
  timing: TrialTiming;
  /** Where the probes reach the Service; undefined: app probes skipped (pod lifecycle only). */
  address?: Endpoint;
  probe: ProbeOptions;
  signal: AbortSignal;
  clock?: Clock;
  onPhase?: (phase: string) => void;
}

export async function runKubernetesTrial(setup: KubernetesTrialSetup): Promise<TrialResult> {
  const clock = setup.clock ?? systemClock;
  const { api, workload, strategy, signal, address } = setup;
  const dryRun = api.dryRun;
  const log = new TrialLog(clock, setup.onPhase);
  const { events, recorder } = log;
  const probes = new ProbeSession(events);
  const startedAt = clock.wallNow();
  // A dry run waits for nothing: no time passes where a real run would sleep.
  const wait = (ms: number) => (dryRun ? Promise.resolve() : sleep(ms, signal));

  let triggerAt: number | undefined;
  let strategyFinishedAt: number | undefined;
  let watch: PodWatch | undefined;
  let selector: string | undefined;
  const applied: K8sObject[] = [];
  const created: K8sObject[] = [];

  const enter = (next: Phase) => log.enter(next);
  try {
    enter('deploy');
    const nodes = await setup.nodes();
    let { source, target } = chooseNodes(nodes, setup.wantedNodes);
    const manifests = prepareManifests(readWorkloadManifests(workload.type), {
      namespace: api.namespace, runId: setup.identity.runId, trial: setup.identity.trial, shape: strategy.shape, source, target,
    });
    selector = manifests.podSelector;
    // The watch starts before anything is created, so the first pod's whole life is on the timeline.
    if (!dryRun) watch = await PodWatch.start(api.cluster, selector, recorder);
    const pods: PodWaiter = watch ?? dryRunPods;
    for (const object of manifests.objects) {
      applied.push(object);
      await api.apply(object);
    }
    const owner = manifests.owner;
    const pod = await pods.waitForPod(owner.kind === 'Pod' ? `pod ${owner.metadata.name}` : `pod of ${owner.kind} ${owner.metadata.name}`, isServing, setup.timing.readyTimeoutMs, signal);
    recorder.emit('trial', 'pod_ready', `${pod.name} on ${pod.node}`);
    if (!dryRun && pod.node !== source) {
      // A Deployment's pod may go to either node of the pair; the scheduler preferred the other one.
      [source, target] = [target, source];
      recorder.emit('trial', 'nodes_swapped', `the scheduler put ${pod.name} on ${pod.node}: it moves to ${target}`);
    }
    if (address) await workload.waitReady(address, setup.timing.readyTimeoutMs, signal);

    enter('prepare');
    if (address) await workload.prepare(address, signal);

    enter('settle');
    if (address) await probes.start(workload.probes(address, setup.probe));
    await wait(setup.timing.settleMs);

    enter('migrate');
    triggerAt = clock.now();
    events.push({ at: triggerAt, source: 'trial', event: 'trigger', detail: `${strategy.name}: ${source} -> ${target}` });
    const sourceNode = nodes.find((n) => n.name === source)!;
    const outcome = await strategy.migrate({
      api, pods, runId: setup.identity.runId, manifests, sourcePod: pod, sourceNode, targetNode: target, events: recorder,
      readyTimeoutMs: setup.timing.readyTimeoutMs, signal, forceControlPlane: setup.forceControlPlane, created: (o) => created.push(o),
    });
    strategyFinishedAt = clock.now();
    recorder.emit('trial', 'migrated', `${outcome.pod.name} on ${outcome.pod.node}`);

    enter('observe');
    await wait(setup.timing.observeMs);

    enter('verify');
    await probes.verify({ triggerAt, strategyFinishedAt });
  } catch (err) {
    log.failPhase(describe(err, signal));
  }

  try {
    await probes.stop();
  } catch (err) {
    log.failTeardown(describe(err, signal));
  }
  setup.onPhase?.('teardown');
  const teardownErrors: string[] = [];
  // Not the run's signal: an interrupted trial is torn down all the same.
  const teardownSignal = new AbortController().signal;
  const toDelete = [...created, ...applied].reverse().filter((o, i, all) => all.findIndex((p) => p.kind === o.kind && p.metadata.name === o.metadata.name) === i);
  for (const object of toDelete) {
    try {
      await api.delete(object, object.kind === 'Pod' ? TEARDOWN_GRACE_SECONDS : undefined);
    } catch (err) {
      teardownErrors.push(`deleting ${object.kind} ${object.metadata.name}: ${describe(err, teardownSignal)}`);
    }
  }
  if (watch && selector) {
    try {
      // The Deployment's pods are deleted by the garbage collector; the next trial starts once they are gone.
      for (const p of await api.listPods(selector)) await api.deletePod(p.metadata!.name!, TEARDOWN_GRACE_SECONDS);
      await watch.waitFor('the trial\'s pods to be gone', (pods) => (pods.every((p) => p.deleted) ? true : undefined), setup.timing.readyTimeoutMs, teardownSignal);
    } catch (err) {
      teardownErrors.push(describe(err, teardownSignal));
    }
    watch.stop();
  }
  if (teardownErrors.length > 0) log.failTeardown(teardownErrors.join('; '));

  return {
    ...setup.identity,
    ...log.statusFields(),
    startedAt,
    timeline: { triggerAt: triggerAt ?? events[0]?.at ?? 0, samples: probes.samples, events },
    probeIntervalMs: setup.probe.intervalMs,
    ...(address ? {} : { probesSkipped: true }),
    ...(strategyFinishedAt !== undefined ? { strategyFinishedAt } : {}),
    ...probes.resultFields(),
  };
}
