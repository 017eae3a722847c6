// Two runs in two namespaces on the same nodes: each trial's state records its namespace where it
// is made, and `migbench cleanup` of one namespace removes that namespace's state on the nodes and
// the shared volume while the other's stays whole and usable; state without a namespace (an older
// migbench's) goes only with every namespace's.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type testNode struct {
	agent  *agent
	server *httptest.Server
}

func newTestNode(t *testing.T, name, shared string) testNode {
	state := t.TempDir()
	c := config{NodeName: name, StateDir: state, CgroupRoot: state, KubeletCheckpointDir: filepath.Join(state, "kubelet-checkpoints"), SharedDir: shared}
	for _, dir := range []string{c.KubeletCheckpointDir, c.storeDir(), filepath.Join(c.criuDir(), "logs")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	a := &agent{config: c, trials: map[string]*trialState{}, peer: http.DefaultClient}
	server := httptest.NewServer(a.routes())
	t.Cleanup(server.Close)
	return testNode{a, server}
}

// call sends one request to the node's agent; its status and body.
func (n testNode) call(t *testing.T, method, path, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, n.server.URL+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}

func (n testNode) mustCall(t *testing.T, method, path, body string) {
	t.Helper()
	if status, answer := n.call(t, method, path, body, nil); status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, status, answer)
	}
}

// receive sends an archive to the target's agent as the source's agent does (token, sha256 trailer).
func (n testNode) receive(t *testing.T, key, token string, archive []byte) {
	t.Helper()
	sum := sha256.Sum256(archive)
	req, _ := http.NewRequest(http.MethodPut, n.server.URL+"/v1/trials/"+key+"/archive", http.NoBody)
	req.Header.Set(tokenHeader, token)
	req.Trailer = http.Header{digestTrailer: nil}
	req.ContentLength = -1
	req.Body = &trailerBody{r: bytes.NewReader(archive), done: func() { req.Trailer.Set(digestTrailer, hex.EncodeToString(sum[:])) }}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("receiving %s: %v %v", key, resp, err)
	}
	resp.Body.Close()
}

// snapshot reads every file under the roots (path → content), to compare before and after.
func snapshot(t *testing.T, roots ...string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(path)
				files[path] = string(b)
			}
			return nil
		})
	}
	return files
}

func TestCleanupOfOneNamespaceLeavesAnothersWhole(t *testing.T) {
	shared := t.TempDir()
	source, target := newTestNode(t, "worker-a", shared), newTestNode(t, "worker-b", shared)
	type trial struct{ namespace, key, token, kubeletArchive string }
	trials := []trial{
		{"run-a", "20261207T050000Z-aaaa-1", "token-a", "checkpoint-migbench-redis-7d9f_run-a-redis-2026-12-07T05:00:01Z.tar"},
		{"run-b", "20261207T050000Z-bbbb-1", "token-b", "checkpoint-migbench-redis-5c2e_run-b-redis-2026-12-07T05:00:02Z.tar"},
	}
	// Both runs' trials half-way through a move on the same two nodes and the same shared volume.
	for _, tr := range trials {
		source.mustCall(t, "POST", "/v1/trials/"+tr.key+"/prepare", `{"step":"dump","namespace":"`+tr.namespace+`"}`)
		target.mustCall(t, "POST", "/v1/trials/"+tr.key+"/prepare", `{"step":"restore","token":"`+tr.token+`","namespace":"`+tr.namespace+`"}`)
		if err := os.WriteFile(filepath.Join(source.agent.config.KubeletCheckpointDir, tr.kubeletArchive), []byte("archive of "+tr.namespace), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(criuLogPath(source.agent.config.criuDir(), tr.key, "dump"), []byte("dump log of "+tr.namespace), 0o600); err != nil {
			t.Fatal(err)
		}
		target.receive(t, tr.key, tr.token, []byte("received archive of "+tr.namespace))
		target.mustCall(t, "PUT", "/v1/trials/"+tr.key+"/restore-dir", `{"namespace":"`+tr.namespace+`"}`)
		// What the share handler writes (it first asks containerd whether the pod is migbench's).
		if _, err := writeShared(strings.NewReader("shared archive of "+tr.namespace), source.agent.config.sharedTrialDir(tr.key), tr.namespace); err != nil {
			t.Fatal(err)
		}
	}
	// An older migbench's leftovers: the same directories without a recorded namespace.
	legacy := "20261101T000000Z-old-1"
	for _, dir := range []string{
		filepath.Join(target.agent.config.storeDir(), legacy),
		target.agent.config.restoreDir(legacy),
		source.agent.config.sharedTrialDir(legacy),
		criuTrialDir(source.agent.config.criuDir(), legacy),
	} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "checkpoint.tar"), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Each trial's directories carry its namespace, root-only.
	a, b := trials[0], trials[1]
	for _, dir := range []string{
		criuTrialDir(source.agent.config.criuDir(), b.key),
		criuTrialDir(target.agent.config.criuDir(), b.key),
		filepath.Join(target.agent.config.storeDir(), b.key),
		target.agent.config.restoreDir(b.key),
		source.agent.config.sharedTrialDir(b.key),
	} {
		ns, known := trialDirNamespace(dir)
		info, err := os.Stat(filepath.Join(dir, trialMetaFile))
		if !known || ns != "run-b" || err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: namespace %q (%v), %v", dir, ns, known, err)
		}
	}

	roots := func(n testNode) []string { return []string{n.agent.config.StateDir} }
	before := snapshot(t, append(append(roots(source), roots(target)...), shared)...)
	pods := []podSandbox{{UID: "u-a", Name: "migbench-redis-7d9f", Namespace: "run-a"}, {UID: "u-b", Name: "migbench-redis-5c2e", Namespace: "run-b"}}
	scope := leftoverScope{namespace: "run-a"}
	removed := append(source.agent.removeLeftoverFiles(context.Background(), scope, pods), target.agent.removeLeftoverFiles(context.Background(), scope, pods)...)
	after := snapshot(t, append(append(roots(source), roots(target)...), shared)...)

	// Namespace run-a's state is gone from both nodes and the shared volume.
	for path := range after {
		if strings.Contains(path, a.key) || strings.Contains(path, "_run-a-") {
			t.Errorf("run-a's %s is left", path)
		}
	}
	for _, want := range []string{a.kubeletArchive, "received archive of trial " + a.key, "unpacked checkpoint of trial " + a.key, "archive of trial " + a.key + " on the shared volume"} {
		if !strings.Contains(strings.Join(removed, "\n"), want) {
			t.Errorf("removed %q does not name %q", removed, want)
		}
	}
	// Every file of run-b's, and every older leftover, is there as it was.
	for path, content := range before {
		if strings.Contains(path, a.key) || strings.Contains(path, "_run-a-") {
			continue
		}
		if after[path] != content {
			t.Errorf("%s changed or went (%q → %q)", path, content, after[path])
		}
	}
	if len(after) == 0 || strings.Contains(strings.Join(removed, "\n"), b.key) || strings.Contains(strings.Join(removed, "\n"), legacy) {
		t.Fatalf("removed %q", removed)
	}
	// And run-b's move goes on: the target still knows its token and takes its archive from the shared volume.
	if target.agent.trial(b.key).token != b.token || target.agent.trial(a.key).token != "" {
		t.Error("the target's trials in memory: run-b's kept, run-a's forgotten is wrong")
	}
	status, answer := target.call(t, "POST", "/v1/trials/"+b.key+"/take", `{"namespace":"run-b"}`, nil)
	var taken transferResult
	if status != http.StatusOK || json.Unmarshal([]byte(answer), &taken) != nil || taken.Bytes != int64(len("shared archive of run-b")) {
		t.Fatalf("run-b's take after run-a's cleanup: %d %s", status, answer)
	}

	// Every namespace's cleanup (--all-namespaces) takes the rest, the older leftovers too.
	source.agent.removeLeftoverFiles(context.Background(), leftoverScope{all: true}, nil)
	target.agent.removeLeftoverFiles(context.Background(), leftoverScope{all: true}, nil)
	if left := snapshot(t, append(append(roots(source), roots(target)...), shared)...); len(left) > 0 {
		keys := []string{}
		for p := range left {
			keys = append(keys, p)
		}
		t.Fatalf("left after cleaning every namespace: %q", keys)
	}
}

func TestTrialRequestsNameTheirNamespace(t *testing.T) {
	n := newTestNode(t, "worker-a", t.TempDir())
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/v1/trials/k1/prepare", `{"step":"dump"}`, http.StatusBadRequest},
		{"POST", "/v1/trials/k1/prepare", `{"step":"dump","namespace":"Run_A"}`, http.StatusBadRequest},
		{"POST", "/v1/trials/k1/prepare", `{"step":"dump","namespace":"run-a"}`, http.StatusOK},
		// One trial is never touched as another namespace's.
		{"POST", "/v1/trials/k1/prepare", `{"step":"restore","namespace":"run-b"}`, http.StatusConflict},
		{"PUT", "/v1/trials/k1/restore-dir", `{"namespace":"run-b"}`, http.StatusConflict},
		{"PUT", "/v1/trials/k1/restore-dir", ``, http.StatusBadRequest},
		{"POST", "/v1/trials/k1/image", `{"container":"redis","image":"localhost/migbench-checkpoint/run-b/migbench-redis-x:k1","namespace":"run-a"}`, http.StatusBadRequest},
		// The cleanup names one namespace, or asks for all of them; refused before anything is touched.
		{"POST", "/v1/leftovers", `{}`, http.StatusBadRequest},
		{"POST", "/v1/leftovers", ``, http.StatusBadRequest},
		{"POST", "/v1/leftovers", `{"namespace":"run-a","allNamespaces":true}`, http.StatusBadRequest},
		{"POST", "/v1/leftovers", `{"namespace":"../x"}`, http.StatusBadRequest},
	} {
		if status, answer := n.call(t, tc.method, tc.path, tc.body, nil); status != tc.status {
			t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, status, answer, tc.status)
		}
	}
	if _, err := os.Stat(n.agent.config.restoreDir("k1")); !os.IsNotExist(err) {
		t.Error("a refused request made the restore directory")
	}
}

func TestLeftoverScopeReadsNamesAsRuntimesWriteThem(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("ab12", 16)
	for name, want := range map[string]string{
		"localhost/migbench-checkpoint/run-a/migbench-redis-x:20261207t0500-aaaa-1": "run-a",
		"198.19.240.1:5000/migbench-checkpoint/run-b/migbench-redis-x" + digest:     "run-b",
		"registry.example.org/team/migbench-checkpoint/run-a/migbench-redis-x:t-3":  "run-a",
		// The namespace may be called so too: the first migbench-checkpoint segment is migbench's.
		"198.19.240.1:5000/migbench-checkpoint/migbench-checkpoint/migbench-redis-x" + digest: "migbench-checkpoint",
		"localhost/migbench-checkpoint/migbench-redis-x:run-1-0":                              "", // older: none
		"198.19.240.1:5000/migbench-checkpoint/migbench-redis-x" + digest:                     "",
	} {
		got, known := checkpointImageNamespace(name)
		if got != want || known != (want != "") {
			t.Errorf("checkpointImageNamespace(%q) = %q, %v; want %q", name, got, known, want)
		}
		if !pulledImagePattern.MatchString(name) {
			t.Errorf("pulledImagePattern refuses %q", name)
		}
	}
	runA := leftoverScope{namespace: "run-a"}
	if runA.owns("", false) || runA.owns("run-b", true) || !runA.owns("run-a", true) || !(leftoverScope{all: true}).owns("", false) {
		t.Error("leftoverScope.owns")
	}
	// Archive names: checkpoint-<pod>_<namespace>-<container>-<time>.tar; namespaces with dashes make
	// them ambiguous, so a pod on the node of the longer namespace keeps its archive from the shorter's cleanup.
	pods := []podSandbox{{Name: "migbench-redis-x", Namespace: "run-a"}}
	for _, tc := range []struct {
		scope   string
		archive string
		pods    []podSandbox
		owns    bool
	}{
		{"run-a", "checkpoint-migbench-redis-x_run-a-redis-2026-12-07T05:00:01Z.tar", pods, true},
		{"run-b", "checkpoint-migbench-redis-x_run-a-redis-2026-12-07T05:00:01Z.tar", pods, false},
		{"run", "checkpoint-migbench-redis-x_run-a-redis-2026-12-07T05:00:01Z.tar", pods, false},
		{"run", "checkpoint-migbench-redis-x_run-a-redis-2026-12-07T05:00:01Z.tar", nil, true}, // its pod gone: nobody needs it
		{"run", "checkpoint-migbench-redis-x_run-ml-training-2026-12-07T05:00:01Z.tar", pods, true},
		{"run-a", "checkpoint-other-pod_run-a-app-2026-12-07T05:00:01Z.tar", nil, false}, // not migbench's
		{"run-a", "notes.txt", nil, false},
	} {
		if got := (leftoverScope{namespace: tc.scope}).ownsArchive(tc.archive, tc.pods); got != tc.owns {
			t.Errorf("namespace %s owns %s (pods %v) = %v, want %v", tc.scope, tc.archive, tc.pods, got, tc.owns)
		}
	}
}
