// The CPU this suite runs as. The agent's image holds a binary per CPU (linux/amd64, linux/arm64),
// and its suite runs for each: natively for this machine's, under QEMU user-mode emulation for the
// other (test/agent/go-test.test.ts, `go test -exec qemu-aarch64-static`). A run that says it tested
// arm64 must have executed arm64 code: the running executable's ELF header names the CPU it was
// compiled for (under qemu-user /proc/self/exe is the guest binary, not QEMU), and
// MIGBENCH_TEST_GOARCH, set by whoever ran `go test` for a CPU, must match it.
package main

import (
	"debug/elf"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestRunsAsTheCPUItWasBuiltFor(t *testing.T) {
	want, known := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if !known {
		t.Skipf("the agent is built for amd64 and arm64 only; this is %s", runtime.GOARCH)
	}
	exe, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	if exe.Machine != want {
		t.Fatalf("built for %s, but the running executable is %s", runtime.GOARCH, exe.Machine)
	}
	if expected := os.Getenv("MIGBENCH_TEST_GOARCH"); expected != "" && expected != runtime.GOARCH {
		t.Fatalf("MIGBENCH_TEST_GOARCH=%s, but this test binary is built for %s", expected, runtime.GOARCH)
	}
	t.Logf("linux/%s, executing %s code", runtime.GOARCH, exe.Machine)
}

// A checkpoint image is of its node's CPU, as the pod it holds: containerd on an arm64 node imports
// and restores only an image whose index and config say arm64.
func TestCheckpointImageIsOfThisCPU(t *testing.T) {
	img, err := newCheckpointImage("localhost/migbench-checkpoint/migbench/migbench-redis:run-0", "redis", filepath.Join(t.TempDir(), "a.tar"), sha([]byte("layer")), 5)
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(img.indexJSON, &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index %s: %v", img.indexJSON, err)
	}
	if p := index.Manifests[0].Platform; p == nil || p.Architecture != runtime.GOARCH || p.OS != "linux" {
		t.Errorf("the index's platform is %+v, want linux/%s", p, runtime.GOARCH)
	}
	var manifest struct {
		Config descriptor `json:"config"`
	}
	json.Unmarshal(img.blobs[index.Manifests[0].Digest], &manifest)
	var config struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	}
	if err := json.Unmarshal(img.blobs[manifest.Config.Digest], &config); err != nil || config.Architecture != runtime.GOARCH || config.OS != "linux" {
		t.Errorf("the config says %+v (%v), want linux/%s", config, err, runtime.GOARCH)
	}
}
