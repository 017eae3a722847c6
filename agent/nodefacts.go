// What the node runs that the API server cannot tell, for run.json's platform.runtimes: the CRIU the
// runtime uses (its version and the features migbench's strategies need, as `criu check --feature`
// answers), the cgroup version, and containerd's settings for kubelet-checkpoint's restore
// (cri_settings.go: from containerd's CRI status, through its socket). The CRIU is the one on the
// container runtime's PATH, as runc finds it: the agent's parent process is its pod's containerd
// shim (hostPID), which inherited containerd's environment and sees the node's root. CRIU runs
// chrooted into that root (the node's own libraries) and, through the node's nsenter, in the shim's
// mount namespace: its feature checks mount a tmpfs, which the kernel refuses on another
// namespace's directories (EINVAL).
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The features migbench's CRIU strategies use: dirty-memory tracking (pre-copy), userfaultfd (lazy pages).
var criuFeatures = []string{"mem_dirty_track", "uffd", "uffd-noncoop"}

const (
	cgroup2Magic = 0x63677270
	tmpfsMagic   = 0x01021994
)

type nodeFacts struct {
	Cgroup       string            `json:"cgroup"`
	Criu         string            `json:"criu,omitempty"`
	CriuPath     string            `json:"criuPath,omitempty"`
	CriuFeatures map[string]string `json:"criuFeatures,omitempty"`
	// containerd's settings for kubelet-checkpoint's restore (cri_settings.go).
	CRI      criSettings `json:"cri"`
	Problems []string    `json:"problems"`
}

// cgroupVersion: v2 (unified), v1, or hybrid (v1 controllers with a v2 hierarchy at unified/).
func cgroupVersion(root string) (string, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		return "", err
	}
	switch uint32(st.Type) {
	case cgroup2Magic:
		return "v2", nil
	case tmpfsMagic:
		var unified syscall.Statfs_t
		if syscall.Statfs(filepath.Join(root, "unified"), &unified) == nil && uint32(unified.Type) == cgroup2Magic {
			return "hybrid", nil
		}
		return "v1", nil
	}
	return "", fmt.Errorf("%s is no cgroup filesystem (type %#x)", root, st.Type)
}

// runtimeRoot is the node's root and PATH as the container runtime has them (the shim's), and the shim's pid.
func runtimeRoot() (root string, path string, shim int, err error) {
	shim = os.Getppid()
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", shim))
	if err != nil {
		return "", "", 0, fmt.Errorf("the runtime's environment (process %d): %w", shim, err)
	}
	path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range strings.Split(string(environ), "\x00") {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok && v != "" {
			path = v
		}
	}
	return "/proc/" + strconv.Itoa(shim) + "/root", path, shim, nil
}

// findInRoot looks a program up on PATH inside root; the path as the node sees it.
func findInRoot(root, path, program string) string {
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		if info, err := statInRoot(root, filepath.Join(dir, program)); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
			return filepath.Join(dir, program)
		}
	}
	return ""
}

// statInRoot stats a node path, following a symlink's absolute target inside root (the kernel would
// take it from the agent's own root: a node's criu is often a link, e.g. into /opt or a cache).
func statInRoot(root, path string) (os.FileInfo, error) {
	for hops := 0; hops < 40; hops++ {
		info, err := os.Lstat(filepath.Join(root, path))
		if err != nil || info.Mode()&os.ModeSymlink == 0 {
			return info, err
		}
		target, err := os.Readlink(filepath.Join(root, path))
		if err != nil {
			return nil, err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = filepath.Clean(target)
	}
	return nil, fmt.Errorf("%s: too many symbolic links", path)
}

// inRoot runs the node's program chrooted into its root; its combined output.
func inRoot(ctx context.Context, root, program string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (a *agent) nodeFacts(w http.ResponseWriter, r *http.Request) (any, error) {
	facts := nodeFacts{Problems: []string{}}
	if v, err := cgroupVersion(a.config.CgroupRoot); err != nil {
		facts.Problems = append(facts.Problems, fmt.Sprintf("cgroup version: %v", err))
	} else {
		facts.Cgroup = v
	}
	facts.CRI = a.runtime.criSettings(r.Context())
	facts.CRI.ConfigFile = a.config.ContainerdConfig
	root, path, shim, err := runtimeRoot()
	if err != nil {
		facts.Problems = append(facts.Problems, err.Error())
		return facts, nil
	}
	criu := findInRoot(root, path, "criu")
	if criu == "" {
		facts.Problems = append(facts.Problems, "no criu on the container runtime's PATH ("+path+")")
		return facts, nil
	}
	facts.CriuPath = criu
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	runCriu := func(args ...string) (string, error) { return inRoot(ctx, root, criu, args...) }
	if nsenter := findInRoot(root, path+":/usr/bin:/bin:/usr/sbin:/sbin", "nsenter"); nsenter != "" {
		runCriu = func(args ...string) (string, error) {
			return inRoot(ctx, root, nsenter, append([]string{"--target", strconv.Itoa(shim), "--mount", "--", criu}, args...)...)
		}
	} else {
		facts.Problems = append(facts.Problems, "no nsenter on the node: CRIU's feature checks ran outside its mount namespace")
	}
	version, err := runCriu("--version")
	if err != nil {
		facts.Problems = append(facts.Problems, fmt.Sprintf("%s --version: %v %s", criu, err, version))
	} else {
		// "Version: 4.2.1" (and a GitID line on builds from git).
		for _, line := range strings.Split(version, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Version:"); ok {
				facts.Criu = strings.TrimSpace(v)
			}
		}
	}
	facts.CriuFeatures = map[string]string{}
	for _, feature := range criuFeatures {
		said, err := runCriu("check", "--feature", feature)
		if err == nil {
			facts.CriuFeatures[feature] = "yes"
			continue
		}
		// CRIU prefixes its messages with their source ("Warn  (criu/cr-check.c:824): "); the reason follows.
		if i := strings.Index(said, "): "); i >= 0 {
			said = said[i+3:]
		}
		facts.CriuFeatures[feature] = "no: " + strings.Join(strings.Fields(said), " ")
	}
	return facts, nil
}
