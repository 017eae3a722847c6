// The agent's pure parts: what it accepts (trial keys, archive names, image names), the CRIU
// options it writes, the checkpoint image's layout, finding and resuming a pod through cgroupfs,
// and the archive's transfer between two agents with its checksum.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTrialKeys(t *testing.T) {
	for key, ok := range map[string]bool{"run-1-3": true, "20261206T1801-abc_2.1": true, "": false, "../etc": false, "a/b": false, "a..b": false, strings.Repeat("a", 129): false} {
		if got := validTrialKey(key) == nil; got != ok {
			t.Errorf("validTrialKey(%q) = %v, want %v", key, got, ok)
		}
	}
}

func TestKubeletArchiveNames(t *testing.T) {
	good := "checkpoint-migbench-redis-7d9f_migbench-redis-2026-12-06T18:01:02Z.tar"
	a, err := parseKubeletArchive(good)
	if err != nil || a.Pod != "migbench-redis-7d9f" || a.Namespace != "migbench" {
		t.Fatalf("parseKubeletArchive(%q) = %+v, %v", good, a, err)
	}
	for _, bad := range []string{
		"checkpoint-other-pod_default-app-2026-12-06T18:01:02Z.tar", // not migbench's
		"../checkpoint-migbench-redis_migbench-redis-2026-12-06T18:01:02Z.tar",
		"checkpoint-migbench-redis_migbench-redis.tar",
		"/etc/shadow",
	} {
		if _, err := parseKubeletArchive(bad); err == nil {
			t.Errorf("parseKubeletArchive(%q) accepted", bad)
		}
	}
}

func TestImageNames(t *testing.T) {
	if validImageName("localhost/migbench-checkpoint/run-a/migbench-redis-abc:run-1-0") != nil {
		t.Error("a checkpoint image's name refused")
	}
	for _, bad := range []string{
		"docker.io/library/redis:7", "localhost/migbench-checkpoint/x", "localhost/migbench-checkpoint/../x:1",
		"localhost/migbench-checkpoint/migbench-redis-abc:run-1-0", // no namespace: cleanup could not tell whose it is
		"localhost/migbench-checkpoint/Run_A/migbench-redis-abc:run-1-0",
	} {
		if validImageName(bad) == nil {
			t.Errorf("validImageName(%q) accepted", bad)
		}
	}
}

func TestCriuOptions(t *testing.T) {
	dir := t.TempDir()
	if err := writeCriuOptions(dir, "run-1-0", "dump"); err != nil {
		t.Fatal(err)
	}
	if err := writeCriuOptions(dir, "run-1-0", "restore"); err != nil {
		t.Fatal(err)
	}
	dump, _ := os.ReadFile(criuOptionsPath(dir, "run-1-0", "dump"))
	restore, _ := os.ReadFile(criuOptionsPath(dir, "run-1-0", "restore"))
	lines := func(b []byte) []string { return strings.Split(strings.TrimSpace(string(b)), "\n")[1:] }
	wantDump := []string{"tcp-close", "skip-in-flight", "leave-stopped", "network-lock skip", "log-file " + filepath.Join(dir, "logs", "run-1-0.dump.log")}
	if got := lines(dump); strings.Join(got, "|") != strings.Join(wantDump, "|") {
		t.Errorf("dump options %q, want %q", got, wantDump)
	}
	if got := lines(restore); strings.Join(got, "|") != "tcp-close|log-file "+filepath.Join(dir, "logs", "run-1-0.restore.log") {
		t.Errorf("restore options %q", got)
	}
	if info, _ := os.Stat(criuOptionsPath(dir, "run-1-0", "dump")); info.Mode().Perm() != 0o600 {
		t.Errorf("options file mode %v, want 0600", info.Mode().Perm())
	}
	os.WriteFile(filepath.Join(dir, "extra-restore.conf"), []byte("ext-mount-map auto"), 0o600)
	writeCriuOptions(dir, "run-1-1", "restore")
	if restore, _ := os.ReadFile(criuOptionsPath(dir, "run-1-1", "restore")); !strings.HasSuffix(string(restore), "log-file "+filepath.Join(dir, "logs", "run-1-1.restore.log")+"\n# from extra-restore.conf\next-mount-map auto\n") {
		t.Errorf("restore options with the administrator's extra: %q", restore)
	}
	os.WriteFile(criuLogPath(dir, "run-1-0", "dump"), []byte("(00.1) Error (criu/sk-inet.c:191): inet: Connected TCP socket\n"), 0o600)
	if text, _ := readCriuLog(dir, "run-1-0", "dump", 1024); !strings.Contains(text, "Connected TCP socket") {
		t.Errorf("log %q", text)
	}
	if text, err := readCriuLog(dir, "run-2-0", "dump", 1024); text != "" || err != nil {
		t.Errorf("another trial's log: %q %v", text, err)
	}
}

// A checkpoint archive (a tar with stats-dump) as the kubelet writes one.
func writeArchive(t *testing.T, path string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string]string{"spec.dump": "{}", "stats-dump": "STATS", "checkpoint/pages-1.img": strings.Repeat("x", 5000)} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStatsDump(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.tar")
	writeArchive(t, path)
	if b, err := statsDump(path, 1024); err != nil || string(b) != "STATS" {
		t.Fatalf("statsDump = %q, %v", b, err)
	}
}

func TestCheckpointImageLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.tar")
	archive := writeArchive(t, path)
	sum := sha256.Sum256(archive)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	img, err := newCheckpointImage("localhost/migbench-checkpoint/migbench/migbench-redis:run-0", "redis", path, digest, int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := img.writeLayout(&out); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	r := tar.NewReader(&out)
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		b, _ := io.ReadAll(r)
		files[h.Name] = b
	}
	if !bytes.Equal(files["blobs/sha256/"+digest[7:]], archive) {
		t.Fatal("the layer is not the archive unchanged")
	}
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	json.Unmarshal(files["index.json"], &index)
	if len(index.Manifests) != 1 || index.Manifests[0].Annotations["io.containerd.image.name"] != "localhost/migbench-checkpoint/migbench/migbench-redis:run-0" {
		t.Fatalf("index %s", files["index.json"])
	}
	var manifest struct {
		Layers      []descriptor      `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	json.Unmarshal(files["blobs/sha256/"+index.Manifests[0].Digest[7:]], &manifest)
	if manifest.Annotations["org.criu.checkpoint.container.name"] != "redis" || manifest.Annotations["io.kubernetes.cri-o.annotations.checkpoint.name"] != "redis" {
		t.Errorf("manifest annotations %v", manifest.Annotations)
	}
	if len(manifest.Layers) != 1 || manifest.Layers[0].Digest != digest || manifest.Layers[0].Size != int64(len(archive)) {
		t.Errorf("manifest layers %+v", manifest.Layers)
	}
}

// A cgroupfs tree as the cgroupfs and systemd drivers lay pods out, with a real stopped process in it.
func TestResumePodThroughCgroups(t *testing.T) {
	root := t.TempDir()
	uid := "0b6f3c1e-1111-2222-3333-444455556666"
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	defer sleeper.Process.Kill()
	sleeper.Process.Signal(syscall.SIGSTOP)

	for _, dir := range []string{
		filepath.Join(root, "freezer", "mbk-a", "kubepods", "besteffort", "pod"+uid, "c1"),
		filepath.Join(root, "pids", "kubepods.slice", "kubepods-besteffort.slice", "kubepods-besteffort-pod"+strings.ReplaceAll(uid, "-", "_")+".slice", "cri-containerd-c1.scope"),
		filepath.Join(root, "pids", "kubepods", "podother", "c2"),
	} {
		os.MkdirAll(dir, 0o755)
	}
	c1 := filepath.Join(root, "freezer", "mbk-a", "kubepods", "besteffort", "pod"+uid, "c1")
	os.WriteFile(filepath.Join(c1, "cgroup.procs"), []byte(itoa(sleeper.Process.Pid)+"\n"), 0o644)
	os.WriteFile(filepath.Join(c1, "freezer.state"), []byte("FROZEN\n"), 0o644)
	os.WriteFile(filepath.Join(root, "pids", "kubepods", "podother", "c2", "cgroup.procs"), []byte("1\n"), 0o644)
	if got := len(podCgroups(root, uid)); got != 2 {
		t.Fatalf("found %d cgroups of the pod, want 2 (cgroupfs and systemd names)", got)
	}
	waitState := func(stopped bool) bool {
		for i := 0; i < 100; i++ {
			if processStopped("/proc", sleeper.Process.Pid) == stopped {
				return true
			}
			time.Sleep(10 * time.Millisecond)
		}
		return false
	}
	if !waitState(true) || stoppedProcesses(root, "/proc", uid) != 1 {
		t.Fatal("the stopped process is not seen as stopped")
	}
	n, err := resumePod(root, uid)
	if err != nil || n != 1 {
		t.Fatalf("resumePod = %d, %v", n, err)
	}
	if !waitState(false) {
		t.Error("the process is still stopped")
	}
	if state, _ := os.ReadFile(filepath.Join(c1, "freezer.state")); string(state) != "THAWED" {
		t.Errorf("freezer.state %q, want THAWED", state)
	}
	if _, err := resumePod(root, "0b6f3c1e-0000-0000-0000-000000000000"); err == nil {
		t.Error("resumed a pod that has no cgroup")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// Two agents' transfer handlers: the archive arrives intact, checked by sha256; a sender without the trial's token is refused.
func TestTransferBetweenAgents(t *testing.T) {
	newTestAgent := func(node string) (*agent, string) {
		state := t.TempDir()
		kubelet := filepath.Join(state, "kubelet-checkpoints")
		os.MkdirAll(kubelet, 0o700)
		c := config{NodeName: node, KubeletCheckpointDir: kubelet, StateDir: state, CgroupRoot: state}
		os.MkdirAll(c.storeDir(), 0o700)
		return &agent{config: c, trials: map[string]*trialState{}, peer: http.DefaultClient}, kubelet
	}
	target, _ := newTestAgent("b")
	server := httptest.NewServer(target.routes())
	defer server.Close()
	target.trial("run-0").token = "secret"
	target.trial("run-0").namespace = "migbench"
	archive := bytes.Repeat([]byte("page"), 100_000)
	sum := sha256.Sum256(archive)

	put := func(token, digest string) *http.Response {
		req, _ := http.NewRequest(http.MethodPut, server.URL+"/v1/trials/run-0/archive", http.NoBody)
		req.Header.Set(tokenHeader, token)
		req.Trailer = http.Header{digestTrailer: nil}
		req.ContentLength = -1
		req.Body = &trailerBody{r: bytes.NewReader(archive), done: func() { req.Trailer.Set(digestTrailer, digest) }}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := put("wrong", hex.EncodeToString(sum[:])); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a sender without the token: %d", resp.StatusCode)
	}
	if resp := put("secret", strings.Repeat("0", 64)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a corrupted archive: %d", resp.StatusCode)
	}
	resp := put("secret", hex.EncodeToString(sum[:]))
	var result transferResult
	json.NewDecoder(resp.Body).Decode(&result)
	if resp.StatusCode != http.StatusOK || result.Bytes != int64(len(archive)) || result.Sha256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("transfer: %d %+v", resp.StatusCode, result)
	}
	stored := filepath.Join(target.config.storeDir(), "run-0", archiveFile)
	got, _ := os.ReadFile(stored)
	info, _ := os.Stat(stored)
	dir, _ := os.Stat(filepath.Dir(stored))
	if !bytes.Equal(got, archive) || info.Mode().Perm() != 0o600 || dir.Mode().Perm() != 0o700 {
		t.Errorf("stored archive: %d bytes, mode %v, dir %v", len(got), info.Mode().Perm(), dir.Mode().Perm())
	}
}

// Two runs checkpointing on one node at once: each trial's pod names its own options file, so
// preparing the second trial leaves the first trial's options (and its log file) as they were, and
// removing one trial removes only its own.
func TestConcurrentTrialsKeepTheirOwnCriuOptions(t *testing.T) {
	state := t.TempDir()
	c := config{NodeName: "a", StateDir: state, CgroupRoot: state, KubeletCheckpointDir: state}
	a := &agent{config: c, trials: map[string]*trialState{}, peer: http.DefaultClient}
	server := httptest.NewServer(a.routes())
	defer server.Close()
	post := func(method, path, body string) {
		req, _ := http.NewRequest(method, server.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %v %v", method, path, resp, err)
		}
		resp.Body.Close()
	}
	post("POST", "/v1/trials/run-a-1/prepare", `{"step":"dump","namespace":"run-a"}`)
	post("POST", "/v1/trials/run-b-1/prepare", `{"step":"dump","namespace":"run-b"}`)
	first, _ := os.ReadFile(criuOptionsPath(c.criuDir(), "run-a-1", "dump"))
	second, _ := os.ReadFile(criuOptionsPath(c.criuDir(), "run-b-1", "dump"))
	if !strings.Contains(string(first), "run-a-1.dump.log") || !strings.Contains(string(second), "run-b-1.dump.log") {
		t.Fatalf("each trial's options name its own log: %q / %q", first, second)
	}
	if criuOptionsPath(c.criuDir(), "run-a-1", "dump") == criuOptionsPath(c.criuDir(), "run-b-1", "dump") {
		t.Fatal("two trials share one options file")
	}
	post("DELETE", "/v1/trials/run-a-1", "")
	if _, err := os.Stat(criuOptionsPath(c.criuDir(), "run-a-1", "dump")); !os.IsNotExist(err) {
		t.Error("the removed trial's options are still there")
	}
	if again, _ := os.ReadFile(criuOptionsPath(c.criuDir(), "run-b-1", "dump")); !bytes.Equal(again, second) {
		t.Error("removing one trial touched the other's options")
	}
}

// The cgroup version of this machine's hierarchy and the node facts' CRIU look-up on a PATH inside a root.
func TestNodeFactsHelpers(t *testing.T) {
	if v, err := cgroupVersion("/sys/fs/cgroup"); err != nil || (v != "v1" && v != "v2" && v != "hybrid") {
		t.Errorf("cgroupVersion(/sys/fs/cgroup) = %q, %v", v, err)
	}
	if _, err := cgroupVersion(t.TempDir()); err == nil {
		t.Error("a plain directory taken for a cgroup hierarchy")
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "opt", "criu", "sbin"), 0o755)
	os.WriteFile(filepath.Join(root, "opt", "criu", "sbin", "criu"), []byte("#!/bin/sh\n"), 0o755)
	os.MkdirAll(filepath.Join(root, "usr", "sbin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr", "sbin", "criu"), []byte("not executable"), 0o644)
	if got := findInRoot(root, "relative:/usr/sbin:/opt/criu/sbin", "criu"); got != "/opt/criu/sbin/criu" {
		t.Errorf("findInRoot = %q, want the first executable criu on PATH, as the node sees it", got)
	}
	// A link with an absolute target is followed inside the root, not the agent's own.
	os.MkdirAll(filepath.Join(root, "cache", "criu-4.2"), 0o755)
	os.WriteFile(filepath.Join(root, "cache", "criu-4.2", "criu"), []byte("#!/bin/sh\n"), 0o755)
	os.MkdirAll(filepath.Join(root, "run", "node", "bin"), 0o755)
	os.Symlink("/cache/criu-4.2/criu", filepath.Join(root, "run", "node", "bin", "criu"))
	if got := findInRoot(root, "/run/node/bin:/opt/criu/sbin", "criu"); got != "/run/node/bin/criu" {
		t.Errorf("findInRoot through an absolute link = %q, want /run/node/bin/criu", got)
	}
	if got := findInRoot(root, "/usr/bin", "criu"); got != "" {
		t.Errorf("findInRoot found %q where there is none", got)
	}
}
