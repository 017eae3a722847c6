package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestContainerdConfigImportsAndRunc(t *testing.T) {
	cases := []struct {
		name, config, wantDir, wantRunc string
		systemd                         bool
	}{
		{"kubeadm's containerd 2.x with conf.d", `version = 3
imports = ["/etc/containerd/conf.d/*.toml"]
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  SystemdCgroup = true
`, "/etc/containerd/conf.d", "", true},
		{"multi-line imports, a relative one, BinaryName", `version = 2
imports = [
  "/etc/containerd/other.toml", # one file
  "conf.d/*.toml",
]
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = "/usr/local/sbin/runc"
  SystemdCgroup = false
`, "/etc/containerd/conf.d", "/usr/local/sbin/runc", false},
		{"containerd 2.x's own default config (single-quoted keys and strings)", `version = 3
root = '/var/lib/containerd'
imports = ['/etc/containerd/conf.d/*.toml']
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  BinaryName = ''
  SystemdCgroup = true
`, "/etc/containerd/conf.d", "", true},
		{"no imports", `version = 3
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  SystemdCgroup = true
`, "", "", true},
		{"imports in a section are not containerd's", `version = 3
[plugins.x]
  imports = ["/etc/containerd/conf.d/*.toml"]
`, "", "", false},
		{"the lab's node", `version = 3
root = "/x"
imports = ["/run/mbk/nodes/worker-a/containerd.d/*.toml"]
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "/var/cache/migbench/node/runc"
        SystemdCgroup = false
`, "/run/mbk/nodes/worker-a/containerd.d", "/var/cache/migbench/node/runc", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			facts := parseContainerdConfig(c.config)
			dir, ok := dropInDir("/etc/containerd/config.toml", facts.Imports)
			if dir != c.wantDir || ok != (c.wantDir != "") {
				t.Errorf("drop-in dir %q %v, want %q (imports %q)", dir, ok, c.wantDir, facts.Imports)
			}
			if facts.RuncBinary != c.wantRunc || facts.SystemdCgroup != c.systemd {
				t.Errorf("runc %q systemd %v, want %q %v", facts.RuncBinary, facts.SystemdCgroup, c.wantRunc, c.systemd)
			}
		})
	}
	// A single file imported is no directory of drop-ins: refused, naming the line to add.
	if _, ok := dropInDir("/etc/containerd/config.toml", []string{"/etc/containerd/other.toml"}); ok {
		t.Error("a single imported file taken as a drop-in directory")
	}
	msg := missingImportsProblem("/etc/containerd/config.toml", []string{"/etc/containerd/other.toml"})
	if !strings.Contains(msg, `imports = ["/etc/containerd/other.toml", "/etc/containerd/conf.d/*.toml"]`) {
		t.Errorf("the fix does not name the line to add: %s", msg)
	}
}

func TestDropInMatchesTheTypeScriptText(t *testing.T) {
	text := runtimeHandlerDropIn("/var/lib/migbench-agent/bin/migbench-runc", true)
	for _, want := range []string{
		`[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.migbench]`,
		`pod_annotations = ["org.criu.config", "migbench.io/restore-from"]`,
		`BinaryName = "/var/lib/migbench-agent/bin/migbench-runc"`,
		`SystemdCgroup = true`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("drop-in lacks %s:\n%s", want, text)
		}
	}
}

// fakeProc writes a /proc with the processes given (pid → ppid, exe, args, environ, cgroup).
type fakeProcess struct {
	ppid    int
	exe     string
	args    []string
	environ []string
	cgroup  string
}

func fakeProc(t *testing.T, comm1 string, procs map[int]fakeProcess) string {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "1"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "1", "comm"), []byte(comm1+"\n"), 0o644))
	for pid, p := range procs {
		d := filepath.Join(dir, fmt.Sprint(pid))
		must(os.MkdirAll(d, 0o755))
		must(os.Symlink(p.exe, filepath.Join(d, "exe")))
		must(os.WriteFile(filepath.Join(d, "cmdline"), []byte(strings.Join(append([]string{p.exe}, p.args...), "\x00")+"\x00"), 0o644))
		must(os.WriteFile(filepath.Join(d, "environ"), []byte(strings.Join(p.environ, "\x00")+"\x00"), 0o644))
		must(os.WriteFile(filepath.Join(d, "cgroup"), []byte(p.cgroup), 0o644))
		must(os.WriteFile(filepath.Join(d, "stat"), []byte(fmt.Sprintf("%d (%s) S %d 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0", pid, filepath.Base(p.exe), p.ppid)), 0o644))
	}
	return dir
}

func TestFindContainerdByItsConfig(t *testing.T) {
	proc := fakeProc(t, "systemd", map[int]fakeProcess{
		100: {ppid: 1, exe: "/usr/bin/containerd"},
		200: {ppid: 50, exe: "/cache/containerd", args: []string{"--config", "/run/mbk/nodes/worker-a/containerd.toml"}},
		300: {ppid: 50, exe: "/cache/containerd", args: []string{"--config=/run/mbk/nodes/worker-b/containerd.toml"}},
		400: {ppid: 1, exe: "/usr/bin/containerd-shim-runc-v2", args: []string{"-c", "/etc/containerd/config.toml"}},
	})
	for config, want := range map[string]int{"/etc/containerd/config.toml": 100, "/run/mbk/nodes/worker-a/containerd.toml": 200, "/run/mbk/nodes/worker-b/containerd.toml": 300} {
		if pid, err := findContainerd(proc, config); err != nil || pid != want {
			t.Errorf("%s: pid %d (%v), want %d", config, pid, err, want)
		}
	}
	if _, err := findContainerd(proc, "/etc/other.toml"); err == nil {
		t.Error("a containerd found for a config none reads")
	}
}

func TestSupervisorDetection(t *testing.T) {
	root := t.TempDir()
	unit := func(dir, text string) {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir, "containerd.service"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	unit("/lib/systemd/system", "[Service]\nExecStart=/usr/bin/containerd\nRestart=always\nRestartSec=5\n")
	systemd := fakeProc(t, "systemd", map[int]fakeProcess{100: {ppid: 1, exe: "/usr/bin/containerd", cgroup: "0::/system.slice/containerd.service\n"}})
	if got, err := detectSupervisor(systemd, root, 100); err != nil || !strings.Contains(got, "containerd.service, Restart=always") {
		t.Errorf("stock unit: %q %v", got, err)
	}
	// A drop-in that turns Restart off wins over the unit file.
	if err := os.MkdirAll(filepath.Join(root, "/etc/systemd/system/containerd.service.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "/etc/systemd/system/containerd.service.d/10-no.conf"), []byte("[Service]\nRestart=no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := detectSupervisor(systemd, root, 100); err == nil || !strings.Contains(err.Error(), "Restart=no") || !strings.Contains(err.Error(), "systemctl restart containerd") {
		t.Errorf("Restart=no not refused with the manual step: %v", err)
	}
	lab := fakeProc(t, "process_api", map[int]fakeProcess{
		50:  {ppid: 1, exe: "/usr/bin/dash", environ: []string{"PATH=/bin", respawnMarker}},
		200: {ppid: 50, exe: "/cache/containerd", environ: []string{"PATH=/bin", respawnMarker}},
		300: {ppid: 60, exe: "/cache/containerd", environ: []string{"PATH=/bin", respawnMarker}},
		60:  {ppid: 1, exe: "/usr/bin/bash", environ: []string{"PATH=/bin"}},
	})
	if got, err := detectSupervisor(lab, root, 200); err != nil || !strings.Contains(got, "respawn loop (pid 50)") {
		t.Errorf("the lab's loop: %q %v", got, err)
	}
	// The marker inherited, but the parent is no loop: nothing restarts it.
	if _, err := detectSupervisor(lab, root, 300); err == nil || !strings.Contains(err.Error(), "systemctl restart containerd") {
		t.Errorf("a containerd without a supervisor not refused: %v", err)
	}
}

func TestRuncOnNode(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"/usr/local/sbin/runc", "/opt/bin/runc"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte("#!"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	proc := fakeProc(t, "systemd", map[int]fakeProcess{100: {ppid: 1, exe: "/usr/bin/containerd", environ: []string{"PATH=/opt/bin:/usr/bin"}}})
	cases := []struct {
		binary, want string
	}{
		{"", "/opt/bin/runc"},
		{"/usr/local/sbin/runc", "/usr/local/sbin/runc"},
		{"/missing/runc", ""},
	}
	for _, c := range cases {
		got, err := runcOnNode(proc, root, 100, containerdConfigFacts{RuncBinary: c.binary})
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("BinaryName %q: %q %v, want %q", c.binary, got, err, c.want)
		}
	}
}
