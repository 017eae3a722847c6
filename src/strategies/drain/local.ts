// `drain`: Kubernetes' default way of moving pods off a node (kubectl drain). The source node is
// cordoned; the pod is evicted — it leaves the service's endpoints at once and gets SIGTERM, then
// SIGKILL after its grace period. Its controller creates the replacement on another schedulable
// node: a Deployment's ReplicaSet at once, while the old pod is still terminating; a StatefulSet
// only once the old pod is gone (at most one pod per identity). The replacement joins the service
// when ready. The node is uncordoned on every exit path, so a failed or interrupted trial never
// leaves a node unschedulable.
import type { MigrationContext, MigrationOutcome, Strategy } from '../entry/strategy.ts';
import type { DrainStrategyOptions } from './options.ts';

const SOURCE = 'strategy:drain';

export class DrainStrategy implements Strategy {
  readonly name = 'drain';
  private readonly options: DrainStrategyOptions;

  constructor(options: DrainStrategyOptions) {
    this.options = options;
  }

  async migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    const { platform, events } = ctx;
    const source = ctx.pod.node;
    if (!platform.isSchedulable(ctx.targetNode)) throw new Error(`drain: target node ${ctx.targetNode} is not schedulable`);
    await platform.cordon(source, events);
    try {
      await platform.setServiceEndpoint(ctx.service, null, events);
      events.emit(SOURCE, 'evicted', ctx.pod.name);
      const termination = (async () => {
        // With the run's signal: Ctrl-C ends the wait for the evicted pod at once (its grace period
        // may be long) instead of letting the drain run to its end; the trial's teardown removes it.
        const stopped = await platform.stopPod(ctx.pod, this.options.gracePeriodSeconds * 1000, events, ctx.signal);
        events.emit(SOURCE, stopped.killed ? 'source_killed' : 'source_terminated', `${stopped.stopMs.toFixed(1)} ms`);
        await platform.removePod(ctx.pod);
      })();
      // Observed by the await below; this only keeps a failure from being reported as unhandled
      // while the replacement is still starting.
      termination.catch(() => undefined);
      if (this.options.controller === 'statefulset') await termination;
      events.emit(SOURCE, 'replacement_created', `${this.options.controller} on ${ctx.targetNode}`);
      // A replacement that never becomes ready is removed by the trial's teardown, as every pod is.
      const pod = await platform.startPod(ctx.workload.podSpec(), ctx.targetNode, events);
      await ctx.workload.waitReady({ host: pod.ip, port: ctx.workload.port }, ctx.readyTimeoutMs, ctx.signal);
      events.emit(SOURCE, 'ready', pod.name);
      await platform.setServiceEndpoint(ctx.service, pod, events);
      // kubectl drain returns once the evicted pod is gone.
      await termination;
      return { pod };
    } finally {
      await platform.uncordon(source, events);
    }
  }
}
