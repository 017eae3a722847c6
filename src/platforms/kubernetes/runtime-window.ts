// Which container runtimes can restore a pod from a checkpoint image (what kubelet-checkpoint's
// restore on the target node needs), by the version a node reports (status.nodeInfo):
//  - containerd 2.0 checkpoints through the kubelet but has no restore from a checkpoint image;
//  - containerd 2.1–2.3 restore one in CreateContainer; 2.2.7 and 2.3.4 turned it off by default
//    (`enable_experimental_restore_via_create = true` in the CRI runtime section turns it on);
//  - containerd 2.4 removed it;
//  - CRI-O restores checkpoint images (pulled from a registry) with `[crio.checkpoint_restore]`
//    enabled in crio.conf, a path migbench has not built yet.
// The version tells only the default: what a node's containerd actually runs with — that setting,
// and whether its runtime passes runc the pod annotation naming migbench's CRIU options — the node
// agent reads from containerd's CRI status (agent/cri_settings.go); restoreSettingsFacts records it
// and restoreSettingsProblem refuses a node that would fail the restore.
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

/** containerd's settings for the restore as the node agent reads them from its CRI status (agent/cri_settings.go criSettings). */
export interface CriRestoreSettings {
  /** enable_experimental_restore_via_create as containerd runs it; absent: this containerd has no such setting (before 2.2.7/2.3.4, or 2.4). */
  restoreViaCreate: 'true' | 'false' | 'absent' | 'unknown';
  restoreViaCreateWhy?: string;
  /** The runtime pods without a runtime class get (default_runtime_name). */
  defaultRuntime?: string;
  podAnnotations: string[] | null;
  /** Whether that runtime's pod_annotations pass runc org.criu.config. */
  criuConfigAnnotation: 'true' | 'false' | 'unknown';
  criuConfigAnnotationWhy?: string;
  /** The config file containerd reads (the agent's CONTAINERD_CONFIG). */
  configFile?: string;
}

/** containerd's section for the CRI runtime (config version 3), where enable_experimental_restore_via_create goes. */
const CRI_RUNTIME_SECTION = '[plugins."io.containerd.cri.v1.runtime"]';
const runtimeSection = (runtime: string) => `[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.${runtime}]`;
const tomlList = (items: readonly string[] | null) => `[${(items ?? []).map((i) => JSON.stringify(i)).join(', ')}]`;

/**
 * run.json's record of a node's settings, merged over the version's window (node-runtime.ts):
 * `checkpointRestore` the setting as containerd runs it where it has one (else the window stays), or
 * `checkpointRestoreSetting` why it could not be read; `criuConfigAnnotation` whether the pods' runtime passes it.
 */
export function restoreSettingsFacts(settings: CriRestoreSettings): Record<string, string> {
  const out: Record<string, string> = {};
  if (settings.restoreViaCreate === 'true') out.checkpointRestore = 'on (enable_experimental_restore_via_create = true)';
  else if (settings.restoreViaCreate === 'false') out.checkpointRestore = 'off (enable_experimental_restore_via_create = false)';
  else if (settings.restoreViaCreate === 'unknown') out.checkpointRestoreSetting = `unknown (${settings.restoreViaCreateWhy ?? 'the node agent does not say'})`;
  const runtime = `runtime ${settings.defaultRuntime ?? '?'}: pod_annotations = ${tomlList(settings.podAnnotations)}`;
  out.criuConfigAnnotation =
    settings.criuConfigAnnotation === 'true'
      ? `passed (${runtime})`
      : settings.criuConfigAnnotation === 'false'
        ? `not passed (${runtime})`
        : `unknown (${settings.criuConfigAnnotationWhy ?? 'the node agent does not say'})`;
  return out;
}

/**
 * Why kubelet-checkpoint would fail on this node for its containerd's settings (the restore via
 * CreateContainer off, or org.criu.config not passed to runc), naming the setting and the file to
 * change, or undefined. What the agent could not read refuses nothing: the version's window stands.
 */
export function restoreSettingsProblem(node: string, containerRuntimeVersion: string | undefined, settings: CriRestoreSettings): string | undefined {
  const file = settings.configFile ?? "containerd's config.toml";
  const problems: string[] = [];
  if (settings.restoreViaCreate === 'false')
    problems.push(
      `with enable_experimental_restore_via_create = false: it refuses the restore from a checkpoint image ("checkpoint restore via CreateContainer is disabled by configuration"); set it to true under ${CRI_RUNTIME_SECTION} in ${file} and restart containerd`,
    );
  if (settings.criuConfigAnnotation === 'false') {
    const runtime = settings.defaultRuntime ?? 'runc';
    problems.push(
      `whose runtime ${runtime} (the default, which the pods get) has pod_annotations = ${tomlList(settings.podAnnotations)}: containerd does not pass the pod annotation org.criu.config on to runc, so CRIU would run without the options migbench writes for each trial (established TCP connections); set pod_annotations = ["org.criu.config"] under ${runtimeSection(runtime)} in ${file} and restart containerd`,
    );
  }
  if (problems.length === 0) return undefined;
  const version = containerRuntimeVersion?.replace(/^containerd:\/\//, 'containerd ') ?? 'containerd';
  return `node ${node} runs ${version} ${problems.join('; and ')}`;
}

export function parseVersion(text: string | undefined): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
