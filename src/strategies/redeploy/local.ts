// `redeploy`: the original k8s_default_migrate.sh — delete the pod and create it again on the
// target node. As in Kubernetes, the deleted pod leaves the service's endpoints at once, gets SIGTERM
// and, after the grace period, SIGKILL; the new pod starts from its volume (Redis reloads its AOF)
// and joins the service when ready.
import type { MigrationContext, MigrationOutcome, Strategy } from '../entry/strategy.ts';
import type { RedeployStrategyOptions } from './options.ts';

const SOURCE = 'strategy:redeploy';

export class RedeployStrategy implements Strategy {
  readonly name = 'redeploy';
  private readonly options: RedeployStrategyOptions;

  constructor(options: RedeployStrategyOptions) {
    this.options = options;
  }

  async migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    const { platform, events } = ctx;
    await platform.setServiceEndpoint(ctx.service, null, events);
    // With the run's signal: Ctrl-C does not wait out the grace period (see drain.ts).
    const stopped = await platform.stopPod(ctx.pod, this.options.gracePeriodSeconds * 1000, events, ctx.signal);
    events.emit(SOURCE, stopped.killed ? 'source_killed' : 'source_terminated', `${stopped.stopMs.toFixed(1)} ms`);
    await platform.removePod(ctx.pod);
    const pod = await platform.startPod(ctx.workload.podSpec(), ctx.targetNode, events);
    await ctx.workload.waitReady({ host: pod.ip, port: ctx.workload.port }, ctx.readyTimeoutMs, ctx.signal);
    events.emit(SOURCE, 'ready', pod.name);
    await platform.setServiceEndpoint(ctx.service, pod, events);
    return { pod };
  }
}
