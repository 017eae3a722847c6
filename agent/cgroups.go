// A pod's processes found through cgroupfs (the node's /sys/fs/cgroup): its cgroup is named
// pod<uid> (cgroupfs driver) or kubepods-<qos>-pod<uid with _>.slice (systemd driver), in every
// cgroup v1 hierarchy or the one v2 tree. Resuming a pod a checkpoint left stopped thaws its
// freezer (v1 freezer.state, v2 cgroup.freeze) and sends SIGCONT to each of its processes (CRIU's
// leave-stopped stops them with SIGSTOP).
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

func podCgroupNames(uid string) []string {
	return []string{"pod" + uid, "pod" + strings.ReplaceAll(uid, "-", "_") + ".slice"}
}

func isPodCgroup(dir, uid string) bool {
	for _, n := range podCgroupNames(uid) {
		if dir == n || strings.HasSuffix(dir, "-"+n) {
			return true
		}
	}
	return false
}

// podCgroups lists every directory under root that is the pod's cgroup (one per v1 hierarchy, one on v2).
func podCgroups(root, uid string) []string {
	var found []string
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > 8 {
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			path := filepath.Join(dir, e.Name())
			if isPodCgroup(e.Name(), uid) {
				found = append(found, path)
				continue
			}
			walk(path, depth+1)
		}
	}
	walk(root, 0)
	return found
}

// cgroupProcs lists the pids in a cgroup and all below it.
func cgroupProcs(dir string) []int {
	seen := map[int]bool{}
	var pids []int
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, line := range strings.Split(string(data), "\n") {
			if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && !seen[pid] {
				seen[pid] = true
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// thaw lifts a freezer on the cgroup and everything below it (v1 freezer.state, v2 cgroup.freeze).
func thaw(dir string) {
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if state, err := os.ReadFile(filepath.Join(path, "freezer.state")); err == nil && strings.TrimSpace(string(state)) != "THAWED" {
			_ = os.WriteFile(filepath.Join(path, "freezer.state"), []byte("THAWED"), 0)
		}
		if frozen, err := os.ReadFile(filepath.Join(path, "cgroup.freeze")); err == nil && strings.TrimSpace(string(frozen)) == "1" {
			_ = os.WriteFile(filepath.Join(path, "cgroup.freeze"), []byte("0"), 0)
		}
		return nil
	})
}

// processStopped says whether a process is stopped by a signal (state T in /proc/<pid>/stat).
func processStopped(procRoot string, pid int) bool {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'T'
}

// resumePod thaws the pod's cgroups and continues its processes; it returns how many it signalled.
func resumePod(cgroupRoot, uid string) (int, error) {
	dirs := podCgroups(cgroupRoot, uid)
	if len(dirs) == 0 {
		return 0, fmt.Errorf("no cgroup of pod %s under %s", uid, cgroupRoot)
	}
	seen := map[int]bool{}
	for _, d := range dirs {
		thaw(d)
		for _, pid := range cgroupProcs(d) {
			seen[pid] = true
		}
	}
	if len(seen) == 0 {
		return 0, fmt.Errorf("pod %s has no process on this node", uid)
	}
	signalled := 0
	for pid := range seen {
		if err := syscall.Kill(pid, syscall.SIGCONT); err == nil {
			signalled++
		} else if !errors.Is(err, syscall.ESRCH) {
			return signalled, fmt.Errorf("SIGCONT to %d: %w", pid, err)
		}
	}
	return signalled, nil
}

// stoppedProcesses counts the pod's processes still stopped.
func stoppedProcesses(cgroupRoot, procRoot, uid string) int {
	n := 0
	for _, d := range podCgroups(cgroupRoot, uid) {
		for _, pid := range cgroupProcs(d) {
			if processStopped(procRoot, pid) {
				n++
			}
		}
	}
	return n
}
