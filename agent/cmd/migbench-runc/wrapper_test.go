// The wrapper's decisions with the command lines containerd's runc shim (go-runc) really writes.
package main

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// go-runc: Runc.args() then CreateOpts.args(): `--root R --log L --log-format json create --bundle B --pid-file P ID`.
var shimCreate = []string{
	"--root", "/run/containerd/runc/k8s.io", "--log", "/run/x/log.json", "--log-format", "json",
	"create", "--bundle", "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc", "--pid-file", "/run/x/init.pid", "--no-pivot", "abc",
}

func TestParseInvocation(t *testing.T) {
	inv := parseInvocation(shimCreate)
	if inv.command != "create" || len(inv.global) != 6 || inv.containerID() != "abc" {
		t.Fatalf("got %+v id %q", inv, inv.containerID())
	}
	if b, _ := inv.flag("--bundle", "-b"); b != "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc" {
		t.Fatalf("bundle %q", b)
	}
	if got := parseInvocation([]string{"--root=/r", "--systemd-cgroup", "start", "abc"}); got.command != "start" || got.containerID() != "abc" {
		t.Fatalf("got %+v", got)
	}
}

func TestRestoreArgs(t *testing.T) {
	inv := parseInvocation(shimCreate)
	got := restoreArgs(inv, restorePlan{dir: "/var/lib/migbench-agent/restore/t1", bundle: "/b"}, "abc")
	want := []string{
		"--root", "/run/containerd/runc/k8s.io", "--log", "/run/x/log.json", "--log-format", "json",
		"restore", "--detach", "--image-path", "/var/lib/migbench-agent/restore/t1/checkpoint", "--work-path", "/var/lib/migbench-agent/restore/t1/work",
		"--bundle", "/b", "--pid-file", "/run/x/init.pid", "--no-pivot", "abc",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func writeSpec(t *testing.T, annotations map[string]string) string {
	bundle := t.TempDir()
	var pairs []string
	for k, v := range annotations {
		pairs = append(pairs, `"`+k+`":"`+v+`"`)
	}
	spec := `{"root":{"path":"rootfs"},"annotations":{` + strings.Join(pairs, ",") + `}}`
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	return bundle
}

func TestRestorePlan(t *testing.T) {
	w := wrapper{restoreRoot: "/state/restore"}
	plan := func(annotations map[string]string) (*restorePlan, error) {
		return w.restorePlan(parseInvocation([]string{"create", "--bundle", writeSpec(t, annotations), "abc"}))
	}
	if p, err := plan(map[string]string{containerTypeAnnotation: "container"}); p != nil || err != nil {
		t.Fatalf("an unmarked container is created as by runc: %v %v", p, err)
	}
	if p, err := plan(map[string]string{containerTypeAnnotation: "sandbox", restoreAnnotation: "t1"}); p != nil || err != nil {
		t.Fatalf("the pod's sandbox carries the annotation too and is never restored: %v %v", p, err)
	}
	p, err := plan(map[string]string{containerTypeAnnotation: "container", restoreAnnotation: "t1"})
	if err != nil || p == nil || p.dir != "/state/restore/t1" || filepath.Base(p.rootfs) != "rootfs" {
		t.Fatalf("got %+v %v", p, err)
	}
	if _, err := plan(map[string]string{restoreAnnotation: "../../etc"}); err == nil || !strings.Contains(err.Error(), restoreAnnotation) {
		t.Fatalf("a name that is a path is refused naming the annotation: %v", err)
	}
}

func TestWaitForCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t1")
	_ = os.MkdirAll(dir, 0o700)
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600)
	}()
	if err := waitForCheckpoint(dir, 5*time.Second); err != nil {
		t.Fatalf("a checkpoint that arrives after the create is waited for: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "waiting")); err != nil {
		t.Fatalf("the wait is marked for the agent: %v", err)
	}
	failed := t.TempDir()
	_ = os.WriteFile(filepath.Join(failed, "failed"), []byte("sha256 mismatch\n"), 0o600)
	if err := waitForCheckpoint(failed, 5*time.Second); err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("the agent's failure is the create's error: %v", err)
	}
	if err := waitForCheckpoint(filepath.Join(t.TempDir(), "never"), 5*time.Second); err == nil || !strings.Contains(err.Error(), "not prepared") {
		t.Fatalf("a checkpoint the agent never prepared fails at once: %v", err)
	}
	abandoned := filepath.Join(t.TempDir(), "t2")
	_ = os.MkdirAll(abandoned, 0o700)
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = os.RemoveAll(abandoned)
	}()
	if err := waitForCheckpoint(abandoned, 5*time.Second); err == nil || !strings.Contains(err.Error(), "abandoned") {
		t.Fatalf("a removed directory ends the wait: %v", err)
	}
	if err := waitForCheckpoint(t.TempDir(), 30*time.Millisecond); err == nil || !strings.Contains(err.Error(), "within") {
		t.Fatalf("no checkpoint: %v", err)
	}
}

func TestApplyRootfsDiff(t *testing.T) {
	cp, rootfs := t.TempDir(), t.TempDir()
	_ = os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	_ = os.WriteFile(filepath.Join(rootfs, "etc", "gone"), []byte("x"), 0o644)
	_ = os.WriteFile(filepath.Join(cp, "deleted.files"), []byte(`["/etc/gone"]`), 0o600)
	_ = os.WriteFile(filepath.Join(rootfs, "etc", "whiteout"), []byte("x"), 0o644)
	// containerd stores the writable layer's diff gzip-compressed, with OCI whiteouts.
	f, _ := os.Create(filepath.Join(cp, "rootfs-diff.tar"))
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	_ = tw.WriteHeader(&tar.Header{Name: "etc/.wh.whiteout", Mode: 0o644, Typeflag: tar.TypeReg})
	body := "appendonly\n"
	_ = tw.WriteHeader(&tar.Header{Name: "data/appendonly.aof", Mode: 0o640, Size: int64(len(body)), Typeflag: tar.TypeReg, Uid: os.Getuid(), Gid: os.Getgid()})
	_, _ = tw.Write([]byte(body))
	_ = tw.WriteHeader(&tar.Header{Name: "../../escape", Mode: 0o644, Typeflag: tar.TypeReg, Uid: os.Getuid(), Gid: os.Getgid()})
	_ = tw.Close()
	_ = zw.Close()
	_ = f.Close()
	if err := applyRootfsDiff(cp, rootfs); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(rootfs, "data", "appendonly.aof")); string(got) != body {
		t.Fatalf("aof %q", got)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "etc", "gone")); err == nil {
		t.Fatal("deleted.files not applied")
	}
	if _, err := os.Stat(filepath.Join(rootfs, "etc", "whiteout")); err == nil {
		t.Fatal("the whiteout .wh.whiteout did not remove etc/whiteout")
	}
	if _, err := os.Stat(filepath.Join(rootfs, "etc", ".wh.whiteout")); err == nil {
		t.Fatal("a whiteout is not a file")
	}
	if _, err := os.Stat(filepath.Join(rootfs, "escape")); err != nil {
		t.Fatalf("`../../escape` lands inside the root: %v", err)
	}
}

func TestStartAfterRestoreIsConsumedOnce(t *testing.T) {
	w := wrapper{markerDir: t.TempDir()}
	_ = os.WriteFile(w.marker("abc"), nil, 0o600)
	if !w.consumeRestored("abc") || w.consumeRestored("abc") || w.consumeRestored("other") {
		t.Fatal("start is a no-op exactly once, for the restored container only")
	}
}
