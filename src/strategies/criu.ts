// `criu`: the podmigration-operator's flow (SSU-DCN): checkpoint the source pod into the shared
// store, create the destination pod on the target node, restore it there, wait until it serves,
// switch the service to it, remove the source.
import { canCheckpoint } from '../platforms/platform.ts';
import type { MigrationContext, MigrationOutcome, Strategy } from './strategy.ts';

const SOURCE = 'strategy:criu';

export class CriuStrategy implements Strategy {
  readonly name = 'criu';

  async migrate(ctx: MigrationContext): Promise<MigrationOutcome> {
    const { platform, events } = ctx;
    if (!canCheckpoint(platform)) throw new Error(`platform ${platform.name} cannot checkpoint pods`);
    events.emit(SOURCE, 'checkpoint', ctx.pod.name);
    const checkpoint = await platform.checkpointPod(ctx.pod, events);
    try {
      events.emit(SOURCE, 'restore', ctx.targetNode);
      const { pod, stats } = await platform.restorePod(checkpoint, ctx.targetNode, events);
      await ctx.workload.waitReady({ host: pod.ip, port: ctx.workload.port }, ctx.readyTimeoutMs, ctx.signal);
      events.emit(SOURCE, 'ready', pod.name);
      await platform.setServiceEndpoint(ctx.service, pod, events);
      await platform.removePod(ctx.pod);
      events.emit(SOURCE, 'source_removed', ctx.pod.name);
      return {
        pod,
        checkpointBytes: checkpoint.bytes,
        criu: { ...checkpoint.stats, ...stats },
      };
    } finally {
      // The images are only needed for the restore; remove them so a 2 GiB dump does not fill the store.
      await platform.removeCheckpoint(checkpoint);
    }
  }
}
