// What the kubelet-checkpoint strategy needs done on the nodes themselves, beyond the API server
// and kubelet's API: the archive the kubelet wrote moved to the shared store (the seed's NFS), the
// checkpoint image built from it and imported into the target node's runtime, and all of it removed
// again. Implemented for the nodes of `migbench cluster` (nodes/node-checkpoints.ts), whose
// directories and containerd sockets are on this host; a cluster elsewhere would need an agent on
// its nodes for the same steps, which migbench does not ship.
import type { CriuStats } from '../../model/criu-stats.ts';

/** Every checkpoint image's name starts so (strategies/kubelet-checkpoint.ts names them; cleanup finds them by it). */
export const CHECKPOINT_IMAGE_PREFIX = 'localhost/migbench-checkpoint/';

export interface CheckpointNodes {
  /** Pod annotations for the pod that will be checkpointed (the runtime's CRIU options for the dump). */
  readonly checkpointPodAnnotations: Record<string, string>;
  /** Pod annotations for the pod restored from the checkpoint image (CRIU's options for the restore). */
  readonly restorePodAnnotations: Record<string, string>;
  /** Why the strategy cannot run on these nodes (their runtime's configuration), or undefined. */
  unsupportedReason(nodes: readonly string[]): Promise<string | undefined>;
  /** Moves the archive the kubelet wrote on `node` into the shared store under `trialKey`: its path there and size. */
  transfer(node: string, archive: string, trialKey: string): Promise<{ path: string; bytes: number }>;
  /** CRIU's statistics from the archive's stats-dump, when it has one. */
  dumpStats(archive: string): Promise<CriuStats | undefined>;
  /** Builds the checkpoint image `imageName` from the archive; returns the image archive's path. */
  buildImage(archive: string, containerName: string, imageName: string): Promise<string>;
  /** Imports the image archive into `node`'s runtime. */
  importImage(node: string, imageArchive: string): Promise<void>;
  /** CRIU's own error line from its log of the dump or restore, if CRIU wrote that log at or after `sinceEpochMs` (not an older trial's). */
  criuError(step: 'dump' | 'restore', sinceEpochMs: number): Promise<string | undefined>;
  /** Resumes the processes of a pod its checkpoint left stopped (SIGCONT): the fallback when a restore fails. */
  resumePod(node: string, podUid: string): Promise<void>;
  /** Removes everything of the trial from every node and the store (images, archives); one line per failure. */
  removeTrial(trial: { key: string; imageName: string; nodes: readonly string[]; kubeletArchive?: string }): Promise<string[]>;
}
