// The wrapper's decisions, apart from main so they are tested: how the shim's runc command line
// splits, whether a create is a restore, the restore's command line, and the wait for the checkpoint.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The pod annotation that marks the container to restore; its value names the delivered checkpoint.
const restoreAnnotation = "migbench.io/restore-from"

// CRI writes these into every container's spec: the sandbox (pause) container gets the pod's
// annotations too, and only the workload's container is restored.
const containerTypeAnnotation = "io.kubernetes.cri.container-type"

// runc's global flags that take a value (urfave/cli accepts `--flag value` and `--flag=value`).
var globalValueFlags = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

// create's flags that take a value.
var createValueFlags = map[string]bool{"--bundle": true, "-b": true, "--pid-file": true, "--console-socket": true, "--pidfd-socket": true, "--preserve-fds": true}

// The agent's trial keys (agent/criu.go trialKeyPattern).
var checkpointName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

type invocation struct {
	global  []string
	command string
	args    []string
}

type wrapper struct {
	runc, restoreRoot, markerDir string
	waitForReady                 time.Duration
}

type restorePlan struct {
	dir    string
	bundle string
	rootfs string
}

// parseInvocation splits `runc <global flags> <command> <args>`.
func parseInvocation(argv []string) invocation {
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") {
			return invocation{global: argv[:i], command: a, args: argv[i+1:]}
		}
		if globalValueFlags[a] {
			i++
		}
	}
	return invocation{global: argv}
}

// flag returns a command flag's value (the last one given) and whether it was given.
func (inv invocation) flag(names ...string) (string, bool) {
	value, found := "", false
	for i := 0; i < len(inv.args); i++ {
		for _, n := range names {
			if inv.args[i] == n && i+1 < len(inv.args) {
				value, found = inv.args[i+1], true
			} else if v, ok := strings.CutPrefix(inv.args[i], n+"="); ok {
				value, found = v, true
			}
		}
	}
	return value, found
}

// containerID is the command's last positional argument (create, start, delete take one).
func (inv invocation) containerID() string {
	var positional []string
	for i := 0; i < len(inv.args); i++ {
		a := inv.args[i]
		switch {
		case createValueFlags[a]:
			i++
		case strings.HasPrefix(a, "-"):
		default:
			positional = append(positional, a)
		}
	}
	if len(positional) == 0 {
		return ""
	}
	return positional[len(positional)-1]
}

// restorePlan reads the bundle's spec: nil when the create is an ordinary one.
func (w wrapper) restorePlan(inv invocation) (*restorePlan, error) {
	bundle, ok := inv.flag("--bundle", "-b")
	if !ok {
		bundle, _ = os.Getwd()
	}
	raw, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var spec struct {
		Root        struct{ Path string } `json:"root"`
		Annotations map[string]string     `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", bundle, err)
	}
	name, marked := spec.Annotations[restoreAnnotation]
	if !marked || spec.Annotations[containerTypeAnnotation] == "sandbox" {
		return nil, nil
	}
	if !checkpointName.MatchString(name) || strings.Contains(name, "..") {
		return nil, fmt.Errorf("annotation %s=%q: not a checkpoint name (letters, digits, '.', '_', '-')", restoreAnnotation, name)
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	return &restorePlan{dir: filepath.Join(w.restoreRoot, name), bundle: bundle, rootfs: rootfs}, nil
}

// restoreArgs turns the shim's create into runc's restore from the plan's checkpoint: the same
// global flags, bundle, pid file and console; --detach so runc returns once the tasks run, as
// create returns once init waits. CRIU's own options come from the spec's org.criu.config, which
// runc reads itself.
func restoreArgs(inv invocation, plan restorePlan, id string) []string {
	out := append([]string{}, inv.global...)
	out = append(out, "restore", "--detach", "--image-path", filepath.Join(plan.dir, "checkpoint"), "--work-path", filepath.Join(plan.dir, "work"), "--bundle", plan.bundle)
	if v, ok := inv.flag("--pid-file"); ok {
		out = append(out, "--pid-file", v)
	}
	if v, ok := inv.flag("--console-socket"); ok {
		out = append(out, "--console-socket", v)
	}
	for _, a := range inv.args {
		if a == "--no-pivot" {
			out = append(out, a)
		}
	}
	return append(out, id)
}

// waitForCheckpoint returns once the agent marked the checkpoint ready, or the reason it failed.
// The directory exists from the agent's prepare on (so a pod created before the dump waits here: its
// `waiting` marker tells the agent so); it vanishing means the trial was abandoned. Polled (10 ms).
func waitForCheckpoint(dir string, timeout time.Duration) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("checkpoint %s was not prepared on this node: %w", filepath.Base(dir), err)
	}
	_ = os.WriteFile(filepath.Join(dir, "waiting"), nil, 0o600)
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			return nil
		}
		if why, err := os.ReadFile(filepath.Join(dir, "failed")); err == nil {
			return fmt.Errorf("checkpoint %s not delivered: %s", filepath.Base(dir), strings.TrimSpace(string(why)))
		}
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("checkpoint %s abandoned (its directory was removed)", filepath.Base(dir))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("checkpoint %s not delivered within %s", filepath.Base(dir), timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (w wrapper) marker(id string) string { return filepath.Join(w.markerDir, id+".restored") }

// consumeRestored reports whether the container was restored by create (and forgets it).
func (w wrapper) consumeRestored(id string) bool {
	return id != "" && os.Remove(w.marker(id)) == nil
}

// restore runs the restore with the shim's stdio (runc maps the checkpoint's pipes onto them) and
// returns runc's exit code; a failure is also written to runc's --log, where the shim reads errors.
func (w wrapper) restore(inv invocation, plan restorePlan) int {
	id := inv.containerID()
	err := waitForCheckpoint(plan.dir, w.waitForReady)
	if err == nil {
		err = applyRootfsDiff(plan.dir, plan.rootfs)
	}
	if err == nil {
		err = os.MkdirAll(w.markerDir, 0o700)
	}
	if err == nil {
		err = os.WriteFile(w.marker(id), nil, 0o600)
	}
	if err == nil {
		cmd := exec.Command(w.runc, restoreArgs(inv, plan, id)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err = cmd.Run(); err != nil {
			_ = os.Remove(w.marker(id))
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return exit.ExitCode()
			}
		}
	}
	if err != nil {
		logError(inv, err)
		fmt.Fprintf(os.Stderr, "migbench-runc: %v\n", err)
		return 1
	}
	return 0
}

// logError appends a line to runc's --log in its format, so containerd's error names the cause.
func logError(inv invocation, cause error) {
	g := invocation{args: inv.global}
	path, ok := g.flag("--log")
	if !ok {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	line, _ := json.Marshal(map[string]string{"level": "error", "msg": "migbench-runc: " + cause.Error(), "time": time.Now().Format(time.RFC3339Nano)})
	_, _ = f.Write(append(line, '\n'))
}
