// The runtime handler `migbench` (strategy runtime-restore): a RuntimeClass whose handler is a runtime
// in containerd's runtime table that runs migbench's runc wrapper (agent/cmd/migbench-runc) as
// runc. A pod of that class whose annotation RESTORE_ANNOTATION names a delivered checkpoint is
// restored by its container's create instead of started; every other pod of the class runs as with
// runc. What a node needs: the wrapper beside a `runc` link, and the runtime below in containerd's
// configuration — as a drop-in file (containerd 2.x merges the files its `imports` names, e.g.
// /etc/containerd/conf.d/*.toml) so removing the file and restarting containerd undoes it.

/** The RuntimeClass's name and its handler (the runtime's name in containerd's table). */
export const RUNTIME_HANDLER = 'migbench';
/** The pod annotation naming the checkpoint (the agent's trial key) the container is restored from. */
export const RESTORE_ANNOTATION = 'migbench.io/restore-from';

/**
 * The drop-in for containerd's CRI runtime table: the shim of runc (io.containerd.runc.v2) with the
 * wrapper as its binary; the CRIU options annotation and the restore annotation passed from the pod
 * into the containers' OCI specs (where the wrapper and runc read them).
 */
export function runtimeHandlerDropIn(wrapperPath: string, systemdCgroup: boolean): string {
  const table = `plugins."io.containerd.cri.v1.runtime".containerd.runtimes.${RUNTIME_HANDLER}`;
  return `# migbench runtime handler (RuntimeClass ${RUNTIME_HANDLER}): runc through migbench's wrapper, which
# turns the create of a container annotated ${RESTORE_ANNOTATION} into a runc restore. Remove this
# file and restart containerd to undo it.
version = 3
[${table}]
  runtime_type = "io.containerd.runc.v2"
  pod_annotations = ["org.criu.config", ${JSON.stringify(RESTORE_ANNOTATION)}]
  [${table}.options]
    BinaryName = ${JSON.stringify(wrapperPath)}
    SystemdCgroup = ${systemdCgroup}
`;
}

/** The RuntimeClass pods name (spec.runtimeClassName) to run on the handler. */
export const RUNTIME_CLASS = {
  apiVersion: 'node.k8s.io/v1',
  kind: 'RuntimeClass',
  metadata: { name: RUNTIME_HANDLER, labels: { 'app.kubernetes.io/managed-by': 'migbench' } },
  handler: RUNTIME_HANDLER,
} as const;
