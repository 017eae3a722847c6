// The flow every CRIU strategy shares (the podmigration-operator's, SSU-DCN): checkpoint the source
// pod, restore it on the target node, wait until it serves, switch the service to it, remove the
// source. The strategies differ in how the memory gets to the target (MemoryTransfer), whether
// memory is copied ahead while the pod still runs (pre-copy), and whether the IP moves with the pod.
import { canCheckpoint, type Checkpoint, type CheckpointingRuntime, type MemoryTransfer, type Pod } from '../../platforms/local/node-runtime.ts';
import { CheckpointFailure, MigrationStepError } from '../../criu/migration-errors.ts';
import type { CriuStats } from '../../model/criu-stats.ts';
import type { MigrationContext, MigrationOutcome } from '../entry/strategy.ts';
import { resolvedServiceSwitch, resolvedTargetPod, type CriuDefaults, type CriuOptions } from './options.ts';

export interface CriuMigration {
  /** The strategy's name, the source of its events (`strategy:<name>`). */
  strategy: string;
  transfer: MemoryTransfer;
  preserveIp: boolean;
  /** Who freezes the pod for the final dump (the scenario's `freezer`). */
  freezer?: 'criu' | 'harness' | 'action-script';
  /** When the target pod is made (the scenario's `targetPod`). */
  targetPod?: 'after-dump' | 'before-dump';
  /** The pipes CRIU writes pages through (the scenario's `pagePipes`). */
  pagePipes?: 'sysctl' | 'large';
  /** Who runs CRIU (the scenario's `runtime`; unset: the platform's default). */
  runtime?: 'runc' | 'criu';
  /** When the service is pointed at the target pod (the scenario's `serviceSwitch`). */
  serviceSwitch?: 'after-ready' | 'during-restore';
  /** Pre-copy rounds before the final dump (0: stop-and-copy). */
  preDumps?: number;
}

/** The flow's settings from a CRIU strategy's options; what the options leave to `ip` comes from the strategy's defaults. */
export function criuMigrationOf(strategy: string, transfer: MemoryTransfer, options: CriuOptions, defaults: CriuDefaults): CriuMigration {
  return {
    strategy,
    transfer,
    preserveIp: options.ip === 'preserve',
    freezer: options.freezer,
    targetPod: resolvedTargetPod(options, defaults),
    pagePipes: options.pagePipes,
    serviceSwitch: resolvedServiceSwitch(options, defaults),
    runtime: options.runtime,
  };
}

export async function migrateWithCriu(ctx: MigrationContext, how: CriuMigration): Promise<MigrationOutcome> {
  const { platform, events } = ctx;
  const source = `strategy:${how.strategy}`;
  if (!canCheckpoint(platform)) throw new Error(`platform ${platform.name} cannot checkpoint pods`);
  let checkpoint: Checkpoint;
  try {
    for (let round = 1; round <= (how.preDumps ?? 0); round++) {
      if (!platform.preDumpPod) throw new Error(`platform ${platform.name} cannot pre-dump pods`);
      events.emit(source, 'pre_dump', `round ${round}`);
      await platform.preDumpPod(ctx.pod, events);
    }
    events.emit(source, 'checkpoint', ctx.pod.name);
    checkpoint = await platform.checkpointPod(ctx.pod, events, {
      transfer: how.transfer,
      targetNode: ctx.targetNode,
      preserveIp: how.preserveIp,
      freezer: how.freezer ?? 'criu',
      targetPod: how.targetPod ?? 'after-dump',
      pagePipes: how.pagePipes ?? 'sysctl',
      runtime: how.runtime,
    });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    // The service never left the source; the platform thawed it and removed the partial images.
    const running = err instanceof CheckpointFailure && err.sourceRunning;
    if (running) events.emit(source, 'source_kept', `${ctx.pod.name} on ${ctx.pod.node}`);
    throw new MigrationStepError('dump', messageOf(err), running);
  }
  try {
    let restored: Pod | undefined;
    let memoryComplete: Promise<void> | undefined;
    let stats: CriuStats = {};
    // during-restore: the source is dumped and serves no one, so the service may as well point at the
    // target while CRIU restores it — the switch (an iptables process) leaves the outage, and clients'
    // reconnects are refused by the target until its listening socket is back, then land on it.
    let switching: Promise<void> | undefined;
    const beforeRestore =
      how.serviceSwitch === 'during-restore'
        ? (target: Pod) => {
            switching = platform.setServiceEndpoint(ctx.service, target, events);
            switching.catch(() => undefined); // awaited below; not unhandled while the restore runs
          }
        : undefined;
    try {
      events.emit(source, 'restore', ctx.targetNode);
      ({ pod: restored, stats, memoryComplete } = await platform.restorePod(checkpoint, events, { beforeRestore }));
      await switching;
      await ctx.workload.waitReady({ host: restored.ip, port: ctx.workload.port }, ctx.readyTimeoutMs, ctx.signal);
      events.emit(source, 'ready', restored.name);
      if (!switching) await platform.setServiceEndpoint(ctx.service, restored, events);
    } catch (err) {
      // The fallback's own switch must come after this one.
      await switching?.catch(() => undefined);
      if (ctx.signal.aborted) throw err;
      // Nothing of the target pod stays; the source comes back from the same images.
      if (restored) await platform.removePod(restored).catch(() => undefined);
      return await fallBack(ctx, platform, checkpoint, how, source, err);
    }
    const pod = restored;
    // Post-copy: the source must outlive the transfer of its last page, or the restored pod dies with it.
    // (The platform records memory_complete in the event log.)
    if (memoryComplete) await memoryComplete;
    await platform.removePod(ctx.pod);
    events.emit(source, 'source_removed', ctx.pod.name);
    return { pod, checkpointBytes: checkpoint.bytes, criu: { ...checkpoint.stats, ...stats } };
  } finally {
    // The images are only needed for the restore; remove them so a 2 GiB dump does not fill the store.
    await platform.removeCheckpoint(checkpoint);
  }
}

/**
 * The restore on the target failed: restore the source on its own node from the same images, so
 * the service comes back, and fail the trial saying so (always throws). A lazy dump cannot be
 * restored twice — its memory was served by the source's CRIU, which ended with the failed restore.
 */
async function fallBack(
  ctx: MigrationContext,
  platform: CheckpointingRuntime,
  checkpoint: Checkpoint,
  how: CriuMigration,
  source: string,
  cause: unknown,
): Promise<never> {
  const { events } = ctx;
  const why = messageOf(cause);
  const home = ctx.pod.node;
  if (how.transfer === 'lazy') throw new MigrationStepError('restore', `${why}; no fallback: a lazy dump's memory went with the failed restore`, false);
  events.emit(source, 'fallback', `restoring ${ctx.pod.name} on ${home} from the same images`);
  const t0 = performance.now();
  try {
    const { pod } = await platform.restorePod({ ...checkpoint, request: { ...checkpoint.request, targetNode: home } }, events);
    await ctx.workload.waitReady({ host: pod.ip, port: ctx.workload.port }, ctx.readyTimeoutMs, ctx.signal);
    await platform.setServiceEndpoint(ctx.service, pod, events);
    const fallbackMs = performance.now() - t0;
    events.emit(source, 'fallback_done', `${pod.name} serving on ${home} after ${fallbackMs.toFixed(1)} ms`);
    throw new MigrationStepError('restore', `${why}; fell back: restored on ${home} from the same images in ${fallbackMs.toFixed(1)} ms`, true, fallbackMs);
  } catch (err) {
    if (err instanceof MigrationStepError || ctx.signal.aborted) throw err;
    events.emit(source, 'fallback_failed', messageOf(err));
    throw new MigrationStepError('restore', `${why}; the fallback on ${home} failed too: ${messageOf(err)}`, false);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
