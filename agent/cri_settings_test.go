// containerd's restore settings as the agent reads them (cri_settings.go), from the real containerd
// binaries the lab builds (`migbench cluster build`, and `--containerd 2.4.2`), each started here as
// root on a temporary root, state and socket with a minimal config (version 3, every host-wide path
// of its own): 2.3.7 with the restore via CreateContainer on and org.criu.config passed to runc,
// 2.3.7 with both left at containerd's defaults, 2.3.7 without its CRI plugin (nothing to read), and
// 2.4.2, which has no such setting any more.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// containerdBinary finds the lab's containerd of a minor version (MIGBENCH_CONTAINERD_<2_3>_BINARY, else the node cache).
func containerdBinary(t *testing.T, minor string) string {
	env := "MIGBENCH_CONTAINERD_" + strings.ReplaceAll(minor, ".", "_") + "_BINARY"
	if b := os.Getenv(env); b != "" {
		return b
	}
	found, _ := filepath.Glob("/var/cache/migbench/k8s-node/containerd-v" + minor + ".*/containerd")
	sort.Strings(found)
	msg := ""
	switch {
	case len(found) == 0:
		build := "sh bin/migbench cluster build"
		if minor != "2.3" {
			build += " --containerd " + minor + ".x"
		}
		msg = fmt.Sprintf("containerd %s is not built (/var/cache/migbench/k8s-node/containerd-v%s.*/containerd): run `%s` (or set %s)", minor, minor, build, env)
	case os.Geteuid() != 0:
		msg = "containerd runs as root only"
	}
	if msg != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return found[len(found)-1]
}

// startContainerd runs binary with a config version 3 whose CRI runtime section is runtimeSection,
// on a socket and directories of its own; the agent's client to it.
func startContainerd(t *testing.T, binary, runtimeSection string, disabled ...string) *containerdRuntime {
	// A short directory: the socket's path must fit sun_path (108 bytes).
	dir, err := os.MkdirTemp("", "mbctrd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"cni-conf", "cni-bin"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	socket := filepath.Join(dir, "c.sock")
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	// The CRI plugin on the native snapshotter (no mounts to leave behind), no NRI (its socket is host-wide), the
	// shims' sockets and /opt here: this containerd may run beside the lab's.
	disabled = append(disabled, "io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs",
		"io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.erofs",
		"io.containerd.snapshotter.v1.blockfile", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing")
	quoted := make([]string, len(disabled))
	for i, d := range disabled {
		quoted[i] = q(d)
	}
	config := strings.Join([]string{
		"version = 3",
		"root = " + q(filepath.Join(dir, "root")),
		"state = " + q(filepath.Join(dir, "state")),
		"disabled_plugins = [" + strings.Join(quoted, ", ") + "]",
		`[plugins."io.containerd.server.v1.grpc"]`,
		"  address = " + q(socket),
		`[plugins."io.containerd.server.v1.ttrpc"]`,
		"  address = " + q(socket+".ttrpc"),
		`[plugins."io.containerd.server.v1.debug"]`,
		`  address = ""`,
		`[plugins."io.containerd.shim.v1.manager"]`,
		"  socket_dir = " + q(filepath.Join(dir, "s")),
		`[plugins."io.containerd.internal.v1.opt"]`,
		"  path = " + q(filepath.Join(dir, "opt")),
		`[plugins."io.containerd.cri.v1.images"]`,
		`  snapshotter = "native"`,
		`[plugins."io.containerd.cri.v1.runtime"]`,
		runtimeSection,
		`  [plugins."io.containerd.cri.v1.runtime".cni]`,
		"    bin_dirs = [" + q(filepath.Join(dir, "cni-bin")) + "]",
		"    conf_dir = " + q(filepath.Join(dir, "cni-conf")),
		`[plugins."io.containerd.grpc.v1.cri"]`,
		`  stream_server_address = "127.0.0.1"`,
		`  stream_server_port = "0"`,
	}, "\n") + "\n"
	configFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(binary, "--config", configFile)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("containerd's log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			rt, err := newContainerdRuntime(socket)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err = rt.client.Version(ctx)
				cancel()
				if err == nil {
					t.Cleanup(func() { rt.client.Close() })
					return rt
				}
				rt.client.Close()
			}
			if time.Now().After(deadline) {
				t.Fatalf("containerd on %s: %v\n%s", socket, err, log.String())
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("containerd did not make %s in 20 s:\n%s", socket, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const runcRuntime = `  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
`

func TestCRISettingsFromTheRealContainerd(t *testing.T) {
	binary23 := func(t *testing.T) string { return containerdBinary(t, "2.3") }
	for _, tc := range []struct {
		name     string
		binary   func(t *testing.T) string
		section  string
		disabled []string
		want     criSettings
	}{
		{
			name:   "2.3 with docs/kubernetes.md's settings",
			binary: binary23,
			section: "  enable_experimental_restore_via_create = true\n" + runcRuntime +
				`      pod_annotations = ["org.criu.config"]` + "\n",
			want: criSettings{RestoreViaCreate: "true", DefaultRuntime: "runc", PodAnnotations: []string{"org.criu.config"}, CriuConfigAnnotation: "true"},
		},
		{
			name:    "2.3 with containerd's defaults",
			binary:  binary23,
			section: runcRuntime,
			want:    criSettings{RestoreViaCreate: "false", DefaultRuntime: "runc", PodAnnotations: []string{}, CriuConfigAnnotation: "false"},
		},
		{
			name:   "2.4, which removed the setting",
			binary: func(t *testing.T) string { return containerdBinary(t, "2.4") },
			// A pattern, as containerd matches them (path.Match).
			section: runcRuntime + `      pod_annotations = ["org.criu.*"]` + "\n",
			want: criSettings{
				RestoreViaCreate:     "absent",
				RestoreViaCreateWhy:  "containerd's CRI config has no enableExperimentalRestoreViaCreate: containerd before 2.2.7 and 2.3.4 restores through CreateContainer without it, 2.4 removed that restore",
				DefaultRuntime:       "runc",
				PodAnnotations:       []string{"org.criu.*"},
				CriuConfigAnnotation: "true",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := startContainerd(t, tc.binary(t), tc.section, tc.disabled...)
			got := rt.criSettings(context.Background())
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("read %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("2.3 without its CRI plugin", func(t *testing.T) {
		rt := startContainerd(t, binary23(t), runcRuntime, "io.containerd.grpc.v1.cri")
		got := rt.criSettings(context.Background())
		if got.RestoreViaCreate != "unknown" || got.CriuConfigAnnotation != "unknown" ||
			!strings.HasPrefix(got.RestoreViaCreateWhy, "containerd's CRI status (RuntimeService.Status): ") || !strings.Contains(got.RestoreViaCreateWhy, "Unimplemented") {
			t.Fatalf("read %+v, want unknown, naming the CRI status call and its error", got)
		}
	})
}

// What the JSON containerd's CRI status carries may lack or garble (not reproducible with the real binary).
func TestCRISettingsFromConfigJSON(t *testing.T) {
	for _, tc := range []struct {
		config, restore, annotation, why string
	}{
		{`{"enableExperimentalRestoreViaCreate":true,"containerd":{"defaultRuntimeName":"kata","runtimes":{"runc":{"PodAnnotations":["org.criu.config"]}}}}`,
			"true", "unknown", `containerd's CRI config has no runtime "kata", its default`},
		{`{"enableExperimentalRestoreViaCreate":false,"containerd":{"runtimes":{}}}`,
			"false", "unknown", "containerd's CRI config names no default runtime (containerd.defaultRuntimeName)"},
		{`{"enableExperimentalRestoreViaCreate":true,"containerd":{"defaultRuntimeName":"runc","runtimes":{"runc":{"PodAnnotations":["*"]}}}}`,
			"true", "true", ""},
		{`{"enableExperimentalRestoreViaCreate":true,"containerd":{"defaultRuntimeName":"runc","runtimes":{"runc":{"PodAnnotations":["org.criu.configs","io.kubernetes.*"]}}}}`,
			"true", "false", ""},
		{`not json`, "unknown", "unknown", "containerd's CRI config (RuntimeService.Status, verbose) is not the JSON expected: invalid character 'o' in literal null (expecting 'u')"},
	} {
		got := criSettingsFromConfig(tc.config)
		if got.RestoreViaCreate != tc.restore || got.CriuConfigAnnotation != tc.annotation || got.CriuConfigAnnotationWhy != tc.why {
			t.Errorf("%s: read %+v, want restoreViaCreate %s, criuConfigAnnotation %s (%q)", tc.config, got, tc.restore, tc.annotation, tc.why)
		}
	}
}
