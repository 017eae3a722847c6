// The runtime handler `migbench` on this node (`migbench agent install --runtime-handler`, undone by
// `migbench agent uninstall`): the runc wrapper (agent/cmd/migbench-runc, carried in the agent's
// image beside the agent) copied to <state dir>/bin/ beside a `runc` link to the node's own runc,
// containerd's drop-in for its runtime table written into the directory containerd's config imports,
// and containerd restarted so it reads it (running containers survive: their shims stay).
//
// The node's files are reached through the containerd process's root (/proc/<pid>/root, hostPID):
// the paths as containerd sees them, with no host mount beyond the default install's. containerd is
// the process whose binary is `containerd` and whose --config is CONTAINERD_CONFIG. The main config
// is never edited: a config that imports no drop-in directory is refused, naming the line to add.
// The restart is a SIGTERM to containerd, only where something starts it again: systemd with the
// unit's Restart=always (the stock containerd.service), or the lab's respawn loop (it marks
// containerd's environment with MIGBENCH_CONTAINERD_RESPAWN=1); anywhere else it is refused with the
// manual step (`systemctl restart containerd`).
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	runtimeHandlerName   = "migbench"
	restoreAnnotation    = "migbench.io/restore-from"
	dropInFile           = "migbench-runtime-handler.toml"
	wrapperName          = "migbench-runc"
	defaultContainerdCfg = "/etc/containerd/config.toml"
	// Set in containerd's environment by the lab's respawn loop (src/lab/nodes/host-state.ts).
	respawnMarker = "MIGBENCH_CONTAINERD_RESPAWN=1"
)

// runtimeHandlerDropIn is the same text as src/platforms/kubernetes/runtime-handler.ts runtimeHandlerDropIn.
func runtimeHandlerDropIn(wrapperPath string, systemdCgroup bool) string {
	table := `plugins."io.containerd.cri.v1.runtime".containerd.runtimes.` + runtimeHandlerName
	return fmt.Sprintf(`# migbench runtime handler (RuntimeClass %s): runc through migbench's wrapper, which
# turns the create of a container annotated %s into a runc restore. Remove this
# file and restart containerd to undo it.
version = 3
[%s]
  runtime_type = "io.containerd.runc.v2"
  pod_annotations = ["org.criu.config", %q]
  [%s.options]
    BinaryName = %q
    SystemdCgroup = %t
`, runtimeHandlerName, restoreAnnotation, table, restoreAnnotation, table, wrapperPath, systemdCgroup)
}

// containerdConfigFacts is what the handler needs from containerd's main config (a line-level
// reading of the keys below, not a full TOML parser: the agent's image stays one static binary).
type containerdConfigFacts struct {
	Imports []string
	// The runc runtime's BinaryName and SystemdCgroup (section ….runtimes.runc.options), if set.
	RuncBinary    string
	SystemdCgroup bool
}

var (
	importsPattern = regexp.MustCompile(`(?s)^imports\s*=\s*\[(.*?)\]`)
	quotedPattern  = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"|'([^']*)'`)
	sectionPattern = regexp.MustCompile(`^\[\[?\s*([^\]]+?)\s*\]\]?`)
	keyPattern     = regexp.MustCompile(`^([A-Za-z0-9_]+)\s*=\s*(.*)$`)
)

func parseContainerdConfig(text string) containerdConfigFacts {
	var facts containerdConfigFacts
	section := ""
	lines := strings.Split(text, "\n")
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := sectionPattern.FindStringSubmatch(line); m != nil {
			section = m[1]
			continue
		}
		if section == "" {
			// imports may span lines: match from here to its closing bracket.
			if m := importsPattern.FindStringSubmatch(strings.TrimLeft(strings.Join(lines[i:], "\n"), " \t")); m != nil && strings.HasPrefix(line, "imports") {
				for _, q := range quotedPattern.FindAllStringSubmatch(m[1], -1) {
					if q[1] != "" {
						if s, err := strconv.Unquote(`"` + q[1] + `"`); err == nil {
							facts.Imports = append(facts.Imports, s)
						}
					} else if q[2] != "" {
						facts.Imports = append(facts.Imports, q[2])
					}
				}
			}
			continue
		}
		if !strings.HasSuffix(section, ".runtimes.runc.options") {
			continue
		}
		m := keyPattern.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		value := strings.TrimSpace(strings.SplitN(m[2], "#", 2)[0])
		switch m[1] {
		case "BinaryName":
			if q := quotedPattern.FindStringSubmatch(value); q != nil {
				facts.RuncBinary = q[1] + q[2]
			}
		case "SystemdCgroup":
			facts.SystemdCgroup = value == "true"
		}
	}
	return facts
}

// dropInDir is the directory of the first import that takes a *.toml placed in it; relative imports
// are relative to the main config's directory (as containerd resolves them).
func dropInDir(configPath string, imports []string) (string, bool) {
	for _, pattern := range imports {
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(filepath.Dir(configPath), pattern)
		}
		dir := filepath.Dir(pattern)
		if strings.ContainsAny(dir, "*?[") {
			continue
		}
		if ok, _ := filepath.Match(pattern, filepath.Join(dir, dropInFile)); ok {
			return dir, true
		}
	}
	return "", false
}

// missingImportsProblem names the line to add to a config that imports no drop-in directory.
func missingImportsProblem(configPath string, imports []string) string {
	dir := filepath.Join(filepath.Dir(configPath), "conf.d")
	line := fmt.Sprintf("imports = [%q]", filepath.Join(dir, "*.toml"))
	if len(imports) > 0 {
		quoted := make([]string, 0, len(imports)+1)
		for _, i := range imports {
			quoted = append(quoted, strconv.Quote(i))
		}
		line = fmt.Sprintf("imports = [%s, %q]", strings.Join(quoted, ", "), filepath.Join(dir, "*.toml"))
	}
	return fmt.Sprintf("containerd's config %s imports no directory of drop-ins (*.toml) the runtime handler's could go to: add the line `%s` at its top (before any [section]), restart containerd (`systemctl restart containerd`), and install again; migbench does not edit that file", configPath, line)
}

// containerdProcess is the node's containerd reading `configPath`: its pid, found in procRoot (hostPID's /proc).
func findContainerd(procRoot, configPath string) (int, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join(procRoot, e.Name(), "exe"))
		if err != nil || filepath.Base(strings.TrimSuffix(exe, " (deleted)")) != "containerd" {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if containerdConfigArg(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")[1:]) == configPath {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no containerd process reading %s on this node (CONTAINERD_CONFIG of the agent's DaemonSet names containerd's config)", configPath)
}

// containerdConfigArg is the config a containerd command line names (--config/-c), else containerd's default.
func containerdConfigArg(args []string) string {
	for i, a := range args {
		switch {
		case (a == "--config" || a == "-c") && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(a, "--config="):
			return strings.TrimPrefix(a, "--config=")
		}
	}
	return defaultContainerdCfg
}

func procStat(procRoot string, pid int) (ppid int, startTicks uint64, err error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (in parentheses, which may hold spaces): state ppid … starttime (22nd field).
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("%s/%d/stat: %q", procRoot, pid, b)
	}
	ppid, _ = strconv.Atoi(fields[1])
	startTicks, _ = strconv.ParseUint(fields[19], 10, 64)
	return ppid, startTicks, nil
}

func environHas(procRoot string, pid int, entry string) bool {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "environ"))
	if err != nil {
		return false
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if kv == entry {
			return true
		}
	}
	return false
}

// detectSupervisor says what starts containerd (pid) again when it ends, or why nothing would.
// root is the node's root as containerd sees it (for systemd's unit files).
func detectSupervisor(procRoot, root string, pid int) (string, error) {
	ppid, _, err := procStat(procRoot, pid)
	if err != nil {
		return "", err
	}
	if environHas(procRoot, pid, respawnMarker) && environHas(procRoot, ppid, respawnMarker) {
		return fmt.Sprintf("the lab's respawn loop (pid %d)", ppid), nil
	}
	manual := "restart containerd yourself (`systemctl restart containerd`) after the install writes the drop-in, or run containerd under a supervisor that restarts it"
	comm, _ := os.ReadFile(filepath.Join(procRoot, "1", "comm"))
	if ppid != 1 || strings.TrimSpace(string(comm)) != "systemd" {
		return "", fmt.Errorf("containerd (pid %d) is not run by systemd nor by the lab's respawn loop (its parent is pid %d): nothing would start it again after a restart; %s", pid, ppid, manual)
	}
	unit, err := systemdUnit(procRoot, pid)
	if err != nil {
		return "", fmt.Errorf("containerd (pid %d): %v; %s", pid, err, manual)
	}
	restart := unitRestart(root, unit)
	if restart != "always" {
		return "", fmt.Errorf("systemd unit %s has Restart=%s: a terminated containerd would stay down (Restart=always restarts it); %s", unit, restart, manual)
	}
	return fmt.Sprintf("systemd (%s, Restart=always)", unit), nil
}

// systemdUnit is the service whose cgroup holds pid (…/containerd.service).
func systemdUnit(procRoot string, pid int) (string, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) < 3 {
			continue
		}
		for _, part := range strings.Split(parts[2], "/") {
			if strings.HasSuffix(part, ".service") {
				return part, nil
			}
		}
	}
	return "", fmt.Errorf("its cgroup names no systemd service")
}

// unitRestart is the unit's last Restart= (drop-ins after the unit file, as systemd reads them); "no" when unset.
func unitRestart(root, unit string) string {
	restart := "no"
	read := func(path string) {
		f, err := os.Open(filepath.Join(root, path))
		if err != nil {
			return
		}
		defer f.Close()
		scanner := bufio.NewScanner(f)
		for scanner.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(scanner.Text()), "Restart="); ok {
				restart = strings.TrimSpace(v)
			}
		}
	}
	// The first unit file found in systemd's search order, then every drop-in directory's *.conf.
	dirs := []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(root, dir, unit)); err == nil {
			read(filepath.Join(dir, unit))
			break
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		confs, _ := filepath.Glob(filepath.Join(root, dirs[i], unit+".d", "*.conf"))
		for _, c := range confs {
			read(strings.TrimPrefix(c, root))
		}
	}
	return restart
}

// runcOnNode is the runc containerd's runc runtime runs: its BinaryName, else `runc` on containerd's PATH.
func runcOnNode(procRoot, root string, pid int, facts containerdConfigFacts) (string, error) {
	if facts.RuncBinary != "" {
		if filepath.IsAbs(facts.RuncBinary) {
			if _, err := statInRoot(root, facts.RuncBinary); err != nil {
				return "", fmt.Errorf("the runc runtime's BinaryName %s: %v", facts.RuncBinary, err)
			}
			return facts.RuncBinary, nil
		}
	}
	program := "runc"
	if facts.RuncBinary != "" {
		program = facts.RuncBinary
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "environ")); err == nil {
		for _, kv := range strings.Split(string(b), "\x00") {
			if v, ok := strings.CutPrefix(kv, "PATH="); ok && v != "" {
				path = v
			}
		}
	}
	if found := findInRoot(root, path, program); found != "" {
		return found, nil
	}
	return "", fmt.Errorf("no %s on containerd's PATH (%s)", program, path)
}

// handlerPlan is what installing the handler on this node means, found before anything is changed.
type handlerPlan struct {
	pid        int
	root       string
	configPath string
	dropIn     string
	text       string
	runc       string
	supervisor string
	wrapper    string
}

func (a *agent) wrapperPath() string { return filepath.Join(a.config.StateDir, "bin", wrapperName) }

func (a *agent) planRuntimeHandler() (handlerPlan, error) {
	p := handlerPlan{configPath: a.config.ContainerdConfig, wrapper: a.wrapperPath()}
	pid, err := findContainerd("/proc", p.configPath)
	if err != nil {
		return p, err
	}
	p.pid, p.root = pid, fmt.Sprintf("/proc/%d/root", pid)
	text, err := os.ReadFile(filepath.Join(p.root, p.configPath))
	if err != nil {
		return p, fmt.Errorf("containerd's config %s: %v", p.configPath, err)
	}
	facts := parseContainerdConfig(string(text))
	dir, ok := dropInDir(p.configPath, facts.Imports)
	if !ok {
		return p, httpError{http.StatusConflict, missingImportsProblem(p.configPath, facts.Imports)}
	}
	p.dropIn = filepath.Join(dir, dropInFile)
	p.text = runtimeHandlerDropIn(p.wrapper, facts.SystemdCgroup)
	if p.runc, err = runcOnNode("/proc", p.root, pid, facts); err != nil {
		return p, httpError{http.StatusConflict, err.Error()}
	}
	if p.supervisor, err = detectSupervisor("/proc", p.root, pid); err != nil {
		return p, httpError{http.StatusConflict, err.Error()}
	}
	return p, nil
}

type handlerState struct {
	Node       string   `json:"node"`
	Installed  bool     `json:"installed"`
	DropIn     string   `json:"dropIn,omitempty"`
	Wrapper    string   `json:"wrapper,omitempty"`
	Runc       string   `json:"runc,omitempty"`
	Supervisor string   `json:"supervisor,omitempty"`
	Restarted  bool     `json:"restarted"`
	Changes    []string `json:"changes"`
	Problems   []string `json:"problems"`
}

// runtimeHandlerState (GET): whether the drop-in and wrapper are in place, and what an install would refuse.
func (a *agent) runtimeHandlerState(w http.ResponseWriter, r *http.Request) (any, error) {
	state := handlerState{Node: a.config.NodeName, Changes: []string{}, Problems: []string{}}
	p, err := a.planRuntimeHandler()
	if err != nil {
		state.Problems = append(state.Problems, err.Error())
	}
	state.DropIn, state.Runc, state.Supervisor = p.dropIn, p.runc, p.supervisor
	if p.dropIn != "" {
		_, dropErr := os.Stat(filepath.Join(p.root, p.dropIn))
		_, wrapErr := os.Stat(p.wrapper)
		state.Installed = dropErr == nil && wrapErr == nil
		if state.Installed {
			state.Wrapper = p.wrapper
		}
	}
	return state, nil
}

// installRuntimeHandler (PUT): wrapper and runc link, drop-in, restart; unchanged files and a containerd
// started after them mean nothing to do.
func (a *agent) installRuntimeHandler(w http.ResponseWriter, r *http.Request) (any, error) {
	p, err := a.planRuntimeHandler()
	if err != nil {
		return nil, err
	}
	state := handlerState{Node: a.config.NodeName, Installed: true, DropIn: p.dropIn, Wrapper: p.wrapper, Runc: p.runc, Supervisor: p.supervisor, Changes: []string{}, Problems: []string{}}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	source := filepath.Join(filepath.Dir(self), wrapperName)
	if err := os.MkdirAll(filepath.Dir(p.wrapper), 0o700); err != nil {
		return nil, err
	}
	if changed, err := writeFileIfChanged(p.wrapper, source, 0o755); err != nil {
		return nil, fmt.Errorf("the wrapper %s: %w", p.wrapper, err)
	} else if changed {
		state.Changes = append(state.Changes, "wrapper "+p.wrapper)
	}
	link := filepath.Join(filepath.Dir(p.wrapper), "runc")
	if current, _ := os.Readlink(link); current != p.runc {
		_ = os.Remove(link)
		if err := os.Symlink(p.runc, link); err != nil {
			return nil, err
		}
		state.Changes = append(state.Changes, fmt.Sprintf("link %s → %s", link, p.runc))
	}
	dropIn := filepath.Join(p.root, p.dropIn)
	if current, _ := os.ReadFile(dropIn); string(current) != p.text {
		if err := os.MkdirAll(filepath.Dir(dropIn), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dropIn+".partial", []byte(p.text), 0o644); err != nil {
			return nil, err
		}
		if err := os.Rename(dropIn+".partial", dropIn); err != nil {
			return nil, err
		}
		state.Changes = append(state.Changes, "drop-in "+p.dropIn)
	}
	loaded, err := startedAfter("/proc", p.pid, dropIn)
	if err != nil {
		return nil, err
	}
	if len(state.Changes) > 0 || !loaded {
		if err := a.restartContainerd(r.Context(), p); err != nil {
			return nil, err
		}
		state.Restarted = true
		state.Changes = append(state.Changes, "containerd restarted by "+p.supervisor)
	}
	return state, nil
}

// uninstallRuntimeHandler (DELETE): the drop-in removed and containerd restarted without it, then the
// wrapper and its link (after the restart: no new container of the handler can start meanwhile).
func (a *agent) uninstallRuntimeHandler(w http.ResponseWriter, r *http.Request) (any, error) {
	state := handlerState{Node: a.config.NodeName, Changes: []string{}, Problems: []string{}}
	pid, err := findContainerd("/proc", a.config.ContainerdConfig)
	if err != nil {
		return nil, err
	}
	root := fmt.Sprintf("/proc/%d/root", pid)
	text, err := os.ReadFile(filepath.Join(root, a.config.ContainerdConfig))
	if err != nil {
		return nil, fmt.Errorf("containerd's config %s: %v", a.config.ContainerdConfig, err)
	}
	if dir, ok := dropInDir(a.config.ContainerdConfig, parseContainerdConfig(string(text)).Imports); ok {
		state.DropIn = filepath.Join(dir, dropInFile)
		if err := os.Remove(filepath.Join(root, state.DropIn)); err == nil {
			state.Changes = append(state.Changes, "drop-in "+state.DropIn+" removed")
			p := handlerPlan{pid: pid, root: root}
			if p.supervisor, err = detectSupervisor("/proc", root, pid); err != nil {
				return nil, httpError{http.StatusConflict, fmt.Sprintf("drop-in %s removed; %v", state.DropIn, err)}
			}
			if err := a.restartContainerd(r.Context(), p); err != nil {
				return nil, err
			}
			state.Restarted = true
			state.Changes = append(state.Changes, "containerd restarted by "+p.supervisor)
		} else if !os.IsNotExist(err) {
			return nil, err
		}
	}
	for _, f := range []string{a.wrapperPath(), filepath.Join(filepath.Dir(a.wrapperPath()), "runc")} {
		if err := os.Remove(f); err == nil {
			state.Changes = append(state.Changes, f+" removed")
		} else if !os.IsNotExist(err) {
			state.Problems = append(state.Problems, err.Error())
		}
	}
	_ = os.Remove(filepath.Dir(a.wrapperPath()))
	return state, nil
}

// restartContainerd ends containerd (SIGTERM: it stops serving, its shims and containers stay), waits
// until it is gone and its supervisor's new one answers on the socket.
func (a *agent) restartContainerd(ctx context.Context, p handlerPlan) error {
	if err := syscall.Kill(p.pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("terminating containerd (pid %d): %w", p.pid, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for processAlive("/proc", p.pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd (pid %d) still running 60 s after SIGTERM", p.pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	deadline = time.Now().Add(90 * time.Second)
	for {
		if pid, err := findContainerd("/proc", a.config.ContainerdConfig); err == nil && pid != p.pid {
			check, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := a.runtime.client.Version(check)
			cancel()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd did not answer on %s within 90 s of its restart by %s", a.config.RuntimeSocket, p.supervisor)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func processAlive(procRoot string, pid int) bool {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	rest := b[bytes.LastIndexByte(b, ')')+1:]
	fields := strings.Fields(string(rest))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// startedAfter: the process started after the file was last written (it has read it).
func startedAfter(procRoot string, pid int, file string) (bool, error) {
	info, err := os.Stat(file)
	if err != nil {
		return false, err
	}
	_, ticks, err := procStat(procRoot, pid)
	if err != nil {
		return false, err
	}
	stat, err := os.ReadFile(filepath.Join(procRoot, "stat"))
	if err != nil {
		return false, err
	}
	var boot int64
	for _, line := range strings.Split(string(stat), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			boot, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	// USER_HZ is 100 on every Linux architecture Kubernetes runs on. btime is whole seconds (the
	// start computed up to 1 s early): a second's tolerance, since a write here is always followed
	// by a restart that waits for the old process to end and its supervisor to start another.
	started := time.Unix(boot, 0).Add(time.Duration(ticks) * 10 * time.Millisecond)
	return started.Add(time.Second).After(info.ModTime()), nil
}

// writeFileIfChanged copies source to path (atomically) unless path already holds the same bytes.
func writeFileIfChanged(path, source string, mode os.FileMode) (bool, error) {
	want, err := os.ReadFile(source)
	if err != nil {
		return false, fmt.Errorf("the agent's image carries no %s: %w", filepath.Base(source), err)
	}
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, want) {
		return false, nil
	}
	f, err := os.OpenFile(path+".partial", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(f, bytes.NewReader(want)); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	return true, os.Rename(path+".partial", path)
}
