// `drain` on a cluster: what `kubectl drain` does, limited to the workload's pods — the source node
// is cordoned, the pod is evicted through the Eviction API (so PodDisruptionBudgets are honoured:
// while one forbids it the API answers 429 and the eviction is retried, as kubectl does), the
// Deployment's ReplicaSet creates the replacement, which the scheduler puts on the other node; the
// drain ends when the replacement is ready and the evicted pod is gone. With `controller:
// statefulset` the workload is a StatefulSet of one: its controller creates the replacement — same
// name, new uid — only once the evicted pod has terminated (at most one pod per identity), so the
// source is gone before the replacement exists and "gone" is told by uid, not by name. The node is uncordoned on
// every exit path — failure and Ctrl-C included — and only if this drain cordoned it.
import { sleep } from '../../clock.ts';
import { apiStatus, describeApiError } from '../../platforms/kubernetes/cluster.ts';
import type { DrainStrategyOptions } from './options.ts';
import {
  isServing,
  type KubernetesMigrationContext,
  type KubernetesMigrationOutcome,
  type KubernetesPreflightContext,
  type KubernetesStrategy,
} from '../entry/kubernetes-strategy.ts';

const SOURCE = 'strategy:drain';
/** Between eviction attempts a PodDisruptionBudget refused (kubectl drain waits 5 s; a benchmark wants to see the moment it is allowed). */
const EVICTION_RETRY_MS = 500;

export class KubernetesDrainStrategy implements KubernetesStrategy {
  readonly name = 'drain';
  readonly shape: 'deployment' | 'statefulset';
  private readonly options: DrainStrategyOptions;

  constructor(options: DrainStrategyOptions) {
    this.options = options;
    this.shape = options.controller;
  }

  async preflight({ sourceNode, forceControlPlane }: KubernetesPreflightContext): Promise<string[]> {
    if (!sourceNode.controlPlane || forceControlPlane) return [];
    return [
      `kubernetes.sourceNode: ${sourceNode.name} is a control-plane node and the scenario drains it; name a worker, or set kubernetes.forceControlPlane: true`,
    ];
  }

  async migrate(ctx: KubernetesMigrationContext): Promise<KubernetesMigrationOutcome> {
    const { api, events, sourceNode } = ctx;
    if (sourceNode.controlPlane && !ctx.forceControlPlane) {
      throw new Error(`drain: refusing to drain ${sourceNode.name}, a control-plane node; set kubernetes.forceControlPlane: true to allow it`);
    }
    // A node someone else cordoned stays as it was: only a cordon this drain made is undone.
    const cordoned = sourceNode.schedulable;
    if (cordoned) {
      await api.setUnschedulable(sourceNode.name, true, ctx.runId);
      events.emit(SOURCE, 'node_cordoned', sourceNode.name);
    }
    try {
      await this.evict(ctx);
      events.emit(SOURCE, 'evicted', ctx.sourcePod.name);
      const replacement = await ctx.pods.waitForPod(
        'the replacement pod ready on another node',
        (p) => p.uid !== ctx.sourcePod.uid && p.node !== sourceNode.name && isServing(p),
        ctx.readyTimeoutMs,
        ctx.signal,
      );
      events.emit(SOURCE, 'ready', `${replacement.name} on ${replacement.node}`);
      // kubectl drain returns once the evicted pod is gone (a StatefulSet's replacement has its name: by uid).
      await ctx.pods.waitGone(ctx.sourcePod.name, this.options.gracePeriodSeconds * 1000 + ctx.readyTimeoutMs, ctx.signal, ctx.sourcePod.uid);
      events.emit(SOURCE, 'source_deleted', ctx.sourcePod.name);
      return { pod: replacement };
    } finally {
      if (cordoned) {
        await api.setUnschedulable(sourceNode.name, false, ctx.runId);
        events.emit(SOURCE, 'node_uncordoned', sourceNode.name);
      }
    }
  }

  private async evict(ctx: KubernetesMigrationContext): Promise<void> {
    const deadline = performance.now() + ctx.readyTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await ctx.api.evictPod(ctx.sourcePod.name, this.options.gracePeriodSeconds);
        return;
      } catch (err) {
        if (apiStatus(err) !== 429) throw new Error(`drain: evicting ${ctx.sourcePod.name} failed (${describeApiError(err)})`);
        if (attempt === 1) ctx.events.emit(SOURCE, 'eviction_blocked', `${ctx.sourcePod.name}: ${describeApiError(err)}`);
        if (performance.now() > deadline)
          throw new Error(
            `drain: a PodDisruptionBudget kept refusing the eviction of ${ctx.sourcePod.name} for ${ctx.readyTimeoutMs} ms (timing.readyTimeoutMs)`,
          );
        await sleep(EVICTION_RETRY_MS, ctx.signal);
      }
    }
  }
}
