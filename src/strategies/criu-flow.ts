// The flow every CRIU strategy shares (the podmigration-operator's, SSU-DCN): checkpoint the source
// pod, restore it on the target node, wait until it serves, switch the service to it, remove the
// source. The strategies differ in how the memory gets to the target (MemoryTransfer), whether
// memory is copied ahead while the pod still runs (pre-copy), and whether the IP moves with the pod.
import { canCheckpoint, type MemoryTransfer } from '../platforms/platform.ts';
import type { MigrationContext, MigrationOutcome } from './strategy.ts';

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
  /** Pre-copy rounds before the final dump (0: stop-and-copy). */
  preDumps?: number;
}

export async function migrateWithCriu(ctx: MigrationContext, how: CriuMigration): Promise<MigrationOutcome> {
  const { platform, events } = ctx;
  const source = `strategy:${how.strategy}`;
  if (!canCheckpoint(platform)) throw new Error(`platform ${platform.name} cannot checkpoint pods`);
  for (let round = 1; round <= (how.preDumps ?? 0); round++) {
    if (!platform.preDumpPod) throw new Error(`platform ${platform.name} cannot pre-dump pods`);
    events.emit(source, 'pre_dump', `round ${round}`);
    await platform.preDumpPod(ctx.pod, events);
  }
  events.emit(source, 'checkpoint', ctx.pod.name);
  const checkpoint = await platform.checkpointPod(ctx.pod, events, { transfer: how.transfer, targetNode: ctx.targetNode, preserveIp: how.preserveIp, freezer: how.freezer ?? 'criu', targetPod: how.targetPod ?? 'after-dump', pagePipes: how.pagePipes ?? 'sysctl', runtime: how.runtime });
  try {
    events.emit(source, 'restore', ctx.targetNode);
    const { pod, stats, memoryComplete } = await platform.restorePod(checkpoint, events);
    await ctx.workload.waitReady({ host: pod.ip, port: ctx.workload.port }, ctx.readyTimeoutMs, ctx.signal);
    events.emit(source, 'ready', pod.name);
    await platform.setServiceEndpoint(ctx.service, pod, events);
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
