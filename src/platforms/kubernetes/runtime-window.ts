// Which container runtimes can restore a pod from a checkpoint image (what kubelet-checkpoint's
// restore on the target node needs), by the version a node reports (status.nodeInfo):
//  - containerd 2.0 checkpoints through the kubelet but has no restore from a checkpoint image;
//  - containerd 2.1–2.3 restore one in CreateContainer; 2.2.7 and 2.3.4 turned it off by default
//    (`enable_experimental_restore_via_create = true` in the CRI runtime section turns it on);
//  - containerd 2.4 removed it;
//  - CRI-O restores checkpoint images (pulled from a registry) with `[crio.checkpoint_restore]`
//    enabled in crio.conf, a path migbench has not built yet.
export interface RestoreWindow {
  /** Why a node with this runtime cannot restore from a checkpoint image (through migbench), or undefined. */
  unsupported?: string;
  /** For a runtime that can: whether the restore is on by default or needs a setting (named). */
  restore?: 'on by default' | 'off by default: needs enable_experimental_restore_via_create = true';
}

/** The restore window of a runtime as status.nodeInfo.containerRuntimeVersion writes it (e.g. containerd://2.3.7). */
export function restoreWindow(containerRuntimeVersion: string | undefined): RestoreWindow {
  const runtime = containerRuntimeVersion ?? '(unknown)';
  const [kind, version] = runtime.split('://');
  if (kind === 'cri-o') {
    return {
      unsupported: `runs ${runtime}: migbench restores checkpoint images through containerd only; CRI-O restores them (pulled from a registry) with [crio.checkpoint_restore] enabled in crio.conf, a path migbench does not have yet`,
    };
  }
  if (kind !== 'containerd') return { unsupported: `runs ${runtime}: migbench restores checkpoint images through containerd 2.1 to 2.3 only` };
  const v = parseVersion(version);
  if (!v || compareVersions(v, [2, 0, 0]) < 0)
    return {
      unsupported: `runs containerd ${version}: checkpointing through the kubelet needs containerd ≥ 2.0, and the restore from a checkpoint image 2.1 to 2.3`,
    };
  if (compareVersions(v, [2, 1, 0]) < 0)
    return {
      unsupported: `runs containerd ${version}: containerd 2.0 checkpoints but cannot restore from a checkpoint image (that came in 2.1; 2.1 to 2.3 can)`,
    };
  if (compareVersions(v, [2, 4, 0]) >= 0)
    return { unsupported: `runs containerd ${version}: containerd 2.4 removed the restore from a checkpoint image in CreateContainer (2.1 to 2.3 have it)` };
  const offByDefault = (v[1] === 2 && v[2] >= 7) || (v[1] === 3 && v[2] >= 4);
  return { restore: offByDefault ? 'off by default: needs enable_experimental_restore_via_create = true' : 'on by default' };
}

export function parseVersion(text: string | undefined): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
