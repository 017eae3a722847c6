// Where a pod's checkpoint lies: on the shared store (checkpoints/<source pod>/: its pre-dump rounds
// and the final images) and on a node's own disk (nodes/<node>/checkpoints/<source pod>/, where a
// page server or a link transfer puts what the restore reads), each remembered so that it is
// removed again with the checkpoint, or at the latest when the platform closes.
import { rmSync } from 'node:fs';
import { unmountBelow } from './cleanup.ts';
import { readdir, rm, stat } from 'node:fs/promises';

export class CheckpointDirs {
  /** The shared store: checkpoints/ holds the images, nodes/<node>/ stands for each node's own disk. */
  private readonly checkpointDir: string;
  private readonly nodes: readonly string[];
  private readonly made = new Set<string>();
  /** Pre-copy rounds per source pod, oldest first: the final dump sends only what changed since the last. */
  private readonly rounds = new Map<string, string[]>();

  constructor(checkpointDir: string, nodes: readonly string[]) {
    this.checkpointDir = checkpointDir;
    this.nodes = nodes;
  }

  /** The source pod's directory on the shared store. */
  sourceDir(source: string): string {
    const dir = `${this.checkpointDir}/checkpoints/${source}`;
    this.made.add(dir);
    return dir;
  }

  /** The source pod's pre-dump rounds so far (the list the next round is added to). */
  preDumps(source: string): string[] {
    const rounds = this.rounds.get(source) ?? [];
    this.rounds.set(source, rounds);
    return rounds;
  }

  /** The node's own disk (not the shared store): where a page server on that node writes what it receives. */
  nodeDir(node: string): string {
    return `${this.checkpointDir}/nodes/${node}`;
  }

  /** Where a restore on `node` reads its images when they do not come from the shared store (an empty directory). */
  targetImagesDir(node: string, source: string): string {
    const dir = `${this.nodeDir(node)}/checkpoints/${source}`;
    this.made.add(dir);
    rmSync(`${dir}/images`, { recursive: true, force: true });
    return `${dir}/images`;
  }

  /** A source pod's images on the store and on the target node's disk (and its pre-dumps). */
  async remove(source: string, targetNode: string, ...more: string[]): Promise<void> {
    this.rounds.delete(source);
    for (const dir of [`${this.checkpointDir}/checkpoints/${source}`, `${this.nodeDir(targetNode)}/checkpoints/${source}`, ...more]) {
      // A CRIU killed mid-restore leaves its cgroup yard mounted in the restore's work directory.
      await unmountBelow([dir]);
      await rm(dir, { recursive: true, force: true });
      this.made.delete(dir);
    }
  }

  /** Every checkpoint directory and the nodes' disks, after every pod is gone. */
  async tearDown(attempt: (step: () => Promise<void>) => Promise<void>): Promise<void> {
    for (const dir of [...this.made]) await attempt(() => rm(dir, { recursive: true, force: true }));
    // The nodes' own disks (page-server and link targets): only directories are left there by now.
    for (const node of this.nodes) await attempt(() => rm(this.nodeDir(node), { recursive: true, force: true }));
  }
}

/** The last pre-dump as CRIU wants it: relative to the next dump's images directory (a sibling). */
export function parentPath(preDumps: readonly string[]): string | undefined {
  const last = preDumps.at(-1);
  return last === undefined ? undefined : `../${last.slice(last.lastIndexOf('/') + 1)}`;
}

export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size;
  }
  return total;
}
