// What the kubelet-checkpoint strategy needs done on the nodes themselves, beyond the API server
// and the kubelet's API: the CRIU options of the trial written where the runtime reads them, the
// archive the kubelet wrote streamed to the target node, the checkpoint image built from it and
// imported into the target's runtime, the stopped source resumed when a step fails, and all of it
// removed again. Done by the node agent (agent/, agent/agent-checkpoints.ts), on any cluster.
import type { CriuStats } from '../../model/criu-stats.ts';
import type { CriRestoreSettings } from './runtime-window.ts';

/** Every checkpoint image's name starts so (strategies/kubelet-checkpoint names them; cleanup finds them by it; agent/image.go checks it). */
export const CHECKPOINT_IMAGE_PREFIX = 'localhost/migbench-checkpoint/';

/**
 * A trial's checkpoint image: localhost/migbench-checkpoint/<namespace>/<pod>:<trial> (pushed, <registry>/migbench-checkpoint/<namespace>/<pod>);
 * the namespace in its name lets `migbench cleanup` of one namespace remove its images only (agent/trial_namespace.go).
 */
export function checkpointImageName(namespace: string, pod: string, tag: string): string {
  return `${CHECKPOINT_IMAGE_PREFIX}${namespace}/${pod}:${tag}`;
}

/** One trial's move: its key, the namespace of its pods (the agents record it with the trial's state) and the two nodes. */
export interface CheckpointTrial {
  key: string;
  namespace: string;
  source: string;
  target: string;
}

/** What `migbench cleanup` removes on the nodes: one namespace's leftovers, or (`--all-namespaces`) every namespace's and those recorded for none. */
export type LeftoverScope = { namespace: string } | { allNamespaces: true };

export interface CheckpointNodes {
  /** Pod annotations for the trial's pod that will be checkpointed (the runtime's CRIU options for the dump, the trial's own file). */
  checkpointPodAnnotations(trialKey: string): Record<string, string>;
  /** Pod annotations for the trial's pod restored from the checkpoint image (CRIU's options for the restore, the trial's own file). */
  restorePodAnnotations(trialKey: string): Record<string, string>;
  /** Why the strategy cannot run on these nodes (the agent missing or not ready there), or undefined. */
  unsupportedReason(nodes: readonly string[]): Promise<string | undefined>;
  /** containerd's restore settings on `node` as it runs them, or undefined where the agent does not read them (an older agent). */
  restoreSettings(node: string): Promise<CriRestoreSettings | undefined>;
  /** Before the checkpoint: the trial's CRIU options on both nodes (its own logs), the target ready to receive. */
  prepare(trial: CheckpointTrial): Promise<void>;
  /** Moves the archive the kubelet wrote on the source to the target node (checksummed): streamed, or through a shared volume; its size and the way it went (for the event). */
  transfer(trial: CheckpointTrial, kubeletArchive: string, via: 'stream' | 'shared-volume'): Promise<{ bytes: number; sha256: string; path: string }>;
  /** CRIU's statistics from the transferred archive's stats-dump, when it has one. */
  dumpStats(trial: CheckpointTrial): Promise<CriuStats | undefined>;
  /** Builds the checkpoint image `imageName` on the target from the transferred archive. */
  buildImage(trial: CheckpointTrial, containerName: string, imageName: string): Promise<void>;
  /** Imports the built image into the target's runtime. */
  importImage(trial: CheckpointTrial): Promise<void>;
  /**
   * The other delivery (`delivery: registry`): the source builds the checkpoint image `imageName` from the
   * archive the kubelet wrote and pushes it to `registry`; its reference by digest, the layer's size and
   * sha256, CRIU's statistics. The trial's removal deletes it from the registry again.
   */
  pushImage(
    trial: CheckpointTrial,
    push: { kubeletArchive: string; containerName: string; imageName: string; registry: string; plainHttp: boolean },
  ): Promise<{ reference: string; bytes: number; sha256: string; criu?: CriuStats }>;
  /** CRIU's own error line from this trial's log of the dump (source) or restore (target), if it wrote one. */
  criuError(step: 'dump' | 'restore', trial: CheckpointTrial): Promise<string | undefined>;
  /** Resumes the processes of a pod its checkpoint left stopped: the fallback when a step fails. */
  resumePod(node: string, podUid: string): Promise<void>;
  /** Removes everything of the trial from both nodes (image, archives, CRIU logs; a pushed image from its registry, the pulled one from the target); one line per failure. */
  removeTrial(trial: CheckpointTrial, imageName: string, kubeletArchive?: string, pulledImage?: string): Promise<string[]>;
  /** runtime-restore: the transferred archive unpacked on the target where the runtime handler restores from; the checkpoint's name for the pod's annotation. */
  unpackForRestore?(trial: CheckpointTrial): Promise<string>;
  /** runtime-restore, target pod before the dump: the empty checkpoint directory on the target its pod's create waits on; the checkpoint's name. */
  prepareRestore?(trial: CheckpointTrial): Promise<string>;
  /** runtime-restore: whether the target pod's create is waiting for the checkpoint (its sandbox, network and image done). */
  restoreWaiting?(trial: CheckpointTrial): Promise<boolean>;
  /** runtime-restore: the unpacked checkpoint removed from the target; one line per failure. */
  removeUnpacked?(trial: CheckpointTrial): Promise<string[]>;
  /** What a killed run of the scope's namespace left on every node (`migbench cleanup`): its stopped pods resumed, its images and archives removed; one line per thing. */
  removeLeftovers(scope: LeftoverScope): Promise<string[]>;
}
