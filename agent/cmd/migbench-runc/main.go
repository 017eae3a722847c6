// migbench-runc: the runtime handler `migbench` (RuntimeClass migbench) — runc, except that the
// creation of a container whose OCI spec carries the annotation migbench.io/restore-from becomes a
// `runc restore --detach` from the checkpoint the node agent delivered, and the `start` that follows
// is a no-op for it. containerd's runc shim (io.containerd.runc.v2) runs it as its BinaryName
// exactly as it runs runc: `<global flags> create --bundle B --pid-file P [--console-socket S] ID`,
// then `start ID`, `state`, `kill`, `delete`; the pod annotation reaches the spec through the
// runtime's pod_annotations. So a cluster restores across nodes with neither containerd's
// restore-from-image (removed in 2.4) nor a checkpoint image.
//
// Layout (no path comes from the pod): the wrapper lives in <state dir>/bin/, the real runc beside it
// as `runc`; checkpoints are delivered to <state dir>/restore/<name>/ as the kubelet's archive
// unpacks (checkpoint/ with CRIU's images, optional rootfs-diff.tar and deleted.files), and the
// agent writes `ready` there last (or `failed` with the reason).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	self, err := os.Executable()
	if err != nil {
		fail("%v", err)
	}
	self, _ = filepath.EvalSymlinks(self)
	w := wrapper{
		runc:         filepath.Join(filepath.Dir(self), "runc"),
		restoreRoot:  filepath.Join(filepath.Dir(filepath.Dir(self)), "restore"),
		markerDir:    "/run/migbench-runc",
		waitForReady: 2 * time.Minute,
	}
	inv := parseInvocation(os.Args[1:])
	switch inv.command {
	case "create":
		if plan, err := w.restorePlan(inv); err != nil {
			fail("%v", err)
		} else if plan != nil {
			os.Exit(w.restore(inv, *plan))
		}
	case "start":
		if w.consumeRestored(inv.containerID()) {
			return
		}
	case "delete":
		_ = os.Remove(w.marker(inv.containerID()))
	}
	// Plain runc: same arguments, same stdio, same process (the shim waits on this pid).
	if err := syscall.Exec(w.runc, append([]string{"runc"}, os.Args[1:]...), os.Environ()); err != nil {
		fail("exec %s: %v", w.runc, err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "migbench-runc: "+format+"\n", args...)
	os.Exit(1)
}
