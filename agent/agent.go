// The agent's HTTP API (reached through the API server's pod proxy; the receive side also by the
// source node's agent over the pod network). Every trial's files are under store/<node>/<key>/,
// root-only; every request names a trial key, a pod uid or a checkpoint image name the agent
// checks, never a path.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	archiveFile   = "checkpoint.tar"
	digestTrailer = "X-Migbench-Sha256"
	tokenHeader   = "X-Migbench-Token"
	maxLogBytes   = 256 << 10
)

type trialState struct {
	// The trial's Kubernetes namespace (trial_namespace.go), from the request that first made its state here.
	namespace   string
	token       string
	layerDigest string
	layerSize   int64
	image       *checkpointImage
}

type agent struct {
	config  config
	runtime *containerdRuntime
	mu      sync.Mutex
	trials  map[string]*trialState
	peer    *http.Client
	// The registry's client (delivery: registry): the image's CA roots and --registry-ca's (registry_auth.go).
	registryHTTP *http.Client
}

func newAgent(c config) (*agent, error) {
	for _, dir := range []string{c.criuDir(), filepath.Join(c.criuDir(), "logs"), c.storeDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		_ = os.Chmod(dir, 0o700)
	}
	// Options for a pod checkpointed without a trial's (a manual kubelet checkpoint): the same, logged under "manual".
	for _, step := range []string{"dump", "restore"} {
		if err := writeCriuOptions(c.criuDir(), manualKey, step); err != nil {
			return nil, err
		}
	}
	rt, err := newContainerdRuntime(c.RuntimeSocket)
	if err != nil {
		return nil, err
	}
	registryHTTP, err := registryHTTPClient(c.RegistryCAFile)
	if err != nil {
		return nil, err
	}
	return &agent{config: c, runtime: rt, trials: map[string]*trialState{}, peer: &http.Client{Timeout: 30 * time.Minute}, registryHTTP: registryHTTP}, nil
}

type handler func(w http.ResponseWriter, r *http.Request) (any, error)

type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func (a *agent) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h handler) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			result, err := h(w, r)
			if err != nil {
				status := http.StatusInternalServerError
				var he httpError
				if errors.As(err, &he) {
					status = he.status
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
				return
			}
			if result == nil {
				return
			}
			if b, ok := result.([]byte); ok {
				w.Header().Set("Content-Type", "application/octet-stream")
				_, _ = w.Write(b)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(result)
		})
	}
	handle("GET /healthz", a.health)
	handle("POST /v1/trials/{key}/prepare", a.prepare)
	handle("POST /v1/trials/{key}/send", a.send)
	handle("POST /v1/trials/{key}/share", a.share)
	handle("POST /v1/trials/{key}/take", a.take)
	handle("PUT /v1/trials/{key}/archive", a.receive)
	handle("GET /v1/trials/{key}/stats-dump", a.statsDump)
	handle("POST /v1/trials/{key}/image", a.buildImage)
	handle("POST /v1/trials/{key}/import", a.importImage)
	handle("POST /v1/trials/{key}/push", a.push)
	handle("GET /v1/trials/{key}/criu-log", a.criuLog)
	handle("DELETE /v1/trials/{key}", a.removeTrial)
	handle("POST /v1/pods/{uid}/resume", a.resume)
	handle("POST /v1/leftovers", a.removeLeftovers)
	handle("GET /v1/node-facts", a.nodeFacts)
	handle("POST /v1/trials/{key}/restore-dir", a.unpackForRestore)
	handle("PUT /v1/trials/{key}/restore-dir", a.prepareRestoreDir)
	handle("GET /v1/trials/{key}/restore-dir", a.restoreDirState)
	handle("DELETE /v1/trials/{key}/restore-dir", a.removeRestoreDir)
	handle("GET /v1/pods/{uid}/runtime-events", a.runtimeEvents())
	handle("GET /v1/runtime-handler", a.runtimeHandlerState)
	handle("PUT /v1/runtime-handler", a.installRuntimeHandler)
	handle("DELETE /v1/runtime-handler", a.uninstallRuntimeHandler)
	return mux
}

func (a *agent) trialKey(r *http.Request) (string, error) {
	key := r.PathValue("key")
	if err := validTrialKey(key); err != nil {
		return "", badRequest("%v", err)
	}
	return key, nil
}

func (a *agent) trial(key string) *trialState {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.trials[key]
	if t == nil {
		t = &trialState{}
		a.trials[key] = t
	}
	return t
}

func decode(r *http.Request, into any) error {
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(into); err != nil {
		return badRequest("request body: %v", err)
	}
	return nil
}

func (a *agent) health(w http.ResponseWriter, r *http.Request) (any, error) {
	problems := []string{}
	if _, err := os.Stat(a.config.KubeletCheckpointDir); err != nil && !os.IsNotExist(err) {
		problems = append(problems, fmt.Sprintf("kubelet checkpoint directory %s: %v", a.config.KubeletCheckpointDir, err))
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := a.runtime.client.Version(ctx); err != nil {
		problems = append(problems, fmt.Sprintf("containerd at %s: %v", a.config.RuntimeSocket, err))
	}
	if _, err := os.Stat(a.config.CgroupRoot); err != nil {
		problems = append(problems, fmt.Sprintf("cgroupfs at %s: %v", a.config.CgroupRoot, err))
	}
	return map[string]any{"node": a.config.NodeName, "version": version, "criuDir": a.config.criuDir(), "problems": problems}, nil
}

// prepare writes the CRIU options of the trial's step on this node; the receiving side keeps the
// token the source's agent must present.
func (a *agent) prepare(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Step      string `json:"step"`
		Token     string `json:"token"`
		Namespace string `json:"namespace"`
	}
	if err := decode(r, &body); err != nil {
		return nil, err
	}
	if body.Step != "dump" && body.Step != "restore" {
		return nil, badRequest("step %q: dump or restore", body.Step)
	}
	t, err := a.claimTrial(key, body.Namespace)
	if err != nil {
		return nil, err
	}
	if err := markTrialDir(criuTrialDir(a.config.criuDir(), key), body.Namespace); err != nil {
		return nil, err
	}
	if err := writeCriuOptions(a.config.criuDir(), key, body.Step); err != nil {
		return nil, err
	}
	if body.Token != "" {
		t.token = body.Token
	}
	return map[string]string{"config": criuOptionsPath(a.config.criuDir(), key, body.Step)}, nil
}

type transferResult struct {
	Bytes  int64  `json:"bytes"`
	Sha256 string `json:"sha256"`
}

// openOwnArchive opens a checkpoint archive of one of migbench's own pods (labelled, checked against
// containerd's sandbox labels) from this node's kubelet directory, root-only from then on. Only the
// file's name counts: the archive is read from the kubelet's directory, whatever path was reported.
func (a *agent) openOwnArchive(ctx context.Context, archive string) (*os.File, string, kubeletArchive, error) {
	name := filepath.Base(archive)
	parsed, err := parseKubeletArchive(name)
	if err != nil {
		return nil, "", kubeletArchive{}, badRequest("%v", err)
	}
	ours, err := a.runtime.isMigbenchPod(ctx, "", parsed.Pod, parsed.Namespace)
	if err != nil {
		return nil, "", kubeletArchive{}, err
	}
	if !ours {
		return nil, "", kubeletArchive{}, httpError{http.StatusForbidden, fmt.Sprintf("pod %s/%s is not a migbench pod on %s", parsed.Namespace, parsed.Pod, a.config.NodeName)}
	}
	path := filepath.Join(a.config.KubeletCheckpointDir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, "", kubeletArchive{}, err
	}
	_ = f.Chmod(0o600)
	return f, path, parsed, nil
}

// send streams a migbench pod's archive from the kubelet's directory to the target's agent, then removes it here.
func (a *agent) send(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Archive string `json:"archive"`
		Target  string `json:"target"`
		Token   string `json:"token"`
	}
	if err := decode(r, &body); err != nil {
		return nil, err
	}
	if strings.ContainsAny(body.Target, "/?#@") || body.Target == "" {
		return nil, badRequest("target %q: host:port of the target node's agent", body.Target)
	}
	f, path, _, err := a.openOwnArchive(r.Context(), body.Archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := filepath.Base(path)
	hash := sha256.New()
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPut, fmt.Sprintf("http://%s/v1/trials/%s/archive", body.Target, key), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set(tokenHeader, body.Token)
	req.Header.Set(agentTokenHeader, a.peerToken())
	req.Trailer = http.Header{digestTrailer: nil}
	req.ContentLength = -1
	// The trailer is set once the body has been read to its end (net/http sends trailers after the body).
	req.Body = &trailerBody{r: io.TeeReader(f, hash), done: func() { req.Trailer.Set(digestTrailer, hex.EncodeToString(hash.Sum(nil))) }}
	resp, err := a.peer.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending %s to %s: %w", name, body.Target, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the target's agent (%s) refused %s: %d %s", body.Target, name, resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	var result transferResult
	if err := json.Unmarshal(answer, &result); err != nil {
		return nil, fmt.Errorf("the target's agent answered %q", answer)
	}
	if result.Sha256 != hex.EncodeToString(hash.Sum(nil)) {
		return nil, fmt.Errorf("the target received %s with sha256 %s, sent %s", name, result.Sha256, hex.EncodeToString(hash.Sum(nil)))
	}
	_ = os.Remove(path)
	return result, nil
}

type trailerBody struct {
	r    io.Reader
	done func()
	once sync.Once
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if errors.Is(err, io.EOF) {
		b.once.Do(b.done)
	}
	return n, err
}

func (b *trailerBody) Close() error { return nil }

// receive takes a trial's archive from the source's agent into the store, checking its sha256.
func (a *agent) receive(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	t := a.trial(key)
	if t.token == "" || subtle.ConstantTimeCompare([]byte(t.token), []byte(r.Header.Get(tokenHeader))) != 1 {
		return nil, httpError{http.StatusForbidden, fmt.Sprintf("trial %s was not prepared on %s for this sender", key, a.config.NodeName)}
	}
	// The namespace its prepare named (the token comes from there too).
	if err := markTrialDir(filepath.Join(a.config.storeDir(), key), t.namespace); err != nil {
		return nil, err
	}
	result, err := storeArchive(r.Body, filepath.Join(a.config.storeDir(), key), "receiving the archive", false, func(sum string) error {
		// The sender's sha256 comes as a trailer, readable once the body is read.
		if sent := r.Trailer.Get(digestTrailer); sent != sum {
			return badRequest("the archive's sha256 is %s, the sender's %q", sum, sent)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.layerDigest, t.layerSize = "sha256:"+result.Sha256, result.Bytes
	return result, nil
}

func (a *agent) storedArchive(key string) (string, error) {
	path := filepath.Join(a.config.storeDir(), key, archiveFile)
	if _, err := os.Stat(path); err != nil {
		return "", httpError{http.StatusNotFound, fmt.Sprintf("no archive of trial %s on %s", key, a.config.NodeName)}
	}
	return path, nil
}

func (a *agent) statsDump(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	path, err := a.storedArchive(key)
	if err != nil {
		return nil, err
	}
	stats, err := statsDump(path, 1<<20)
	if err != nil {
		return nil, err
	}
	if stats == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil, nil
	}
	return stats, nil
}

func (a *agent) buildImage(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Container string `json:"container"`
		Image     string `json:"image"`
		Namespace string `json:"namespace"`
	}
	if err := decode(r, &body); err != nil {
		return nil, err
	}
	if err := validImageName(body.Image); err != nil {
		return nil, badRequest("%v", err)
	}
	t, err := a.claimImage(key, body.Namespace, body.Image)
	if err != nil {
		return nil, err
	}
	path, err := a.storedArchive(key)
	if err != nil {
		return nil, err
	}
	if t.layerDigest == "" {
		// Received before this agent restarted: the digest again.
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		t.layerDigest, t.layerSize = "sha256:"+hex.EncodeToString(h.Sum(nil)), n
	}
	img, err := newCheckpointImage(body.Image, body.Container, path, t.layerDigest, t.layerSize)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	t.image = img
	return map[string]string{"image": img.name, "layer": t.layerDigest}, nil
}

func (a *agent) importImage(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	t := a.trial(key)
	if t.image == nil {
		return nil, httpError{http.StatusConflict, fmt.Sprintf("trial %s has no image built on %s", key, a.config.NodeName)}
	}
	if err := a.runtime.importImage(r.Context(), t.image); err != nil {
		return nil, err
	}
	return map[string]string{"image": t.image.name}, nil
}

func (a *agent) criuLog(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	step := r.URL.Query().Get("step")
	if step != "dump" && step != "restore" {
		return nil, badRequest("step %q: dump or restore", step)
	}
	text, err := readCriuLog(a.config.criuDir(), key, step, maxLogBytes)
	if err != nil {
		return nil, err
	}
	return []byte(text), nil
}

func (a *agent) resume(w http.ResponseWriter, r *http.Request) (any, error) {
	uid := r.PathValue("uid")
	if !podUIDPattern.MatchString(uid) {
		return nil, badRequest("pod uid %q", uid)
	}
	ours, err := a.runtime.isMigbenchPod(r.Context(), uid, "", "")
	if err != nil {
		return nil, err
	}
	if !ours {
		return nil, httpError{http.StatusForbidden, fmt.Sprintf("pod %s is not a migbench pod on %s", uid, a.config.NodeName)}
	}
	n, err := resumePod(a.config.CgroupRoot, uid)
	if err != nil {
		return nil, err
	}
	return map[string]int{"resumed": n, "stillStopped": stoppedProcesses(a.config.CgroupRoot, "/proc", uid)}, nil
}

// removeTrial removes the trial's checkpoint image, received archive, CRIU logs and, when named, the kubelet's archive.
func (a *agent) removeTrial(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	var problems []string
	if image := r.URL.Query().Get("image"); image != "" {
		if err := validImageName(image); err != nil {
			return nil, badRequest("%v", err)
		}
		if err := a.runtime.removeImage(r.Context(), image); err != nil {
			problems = append(problems, fmt.Sprintf("image %s: %v", image, err))
		}
	}
	if pulled := r.URL.Query().Get("pulled"); pulled != "" {
		if _, err := a.removePulledImages(r.Context(), pulled, leftoverScope{}); err != nil {
			problems = append(problems, fmt.Sprintf("image %s: %v", pulled, err))
		}
	}
	if archive := r.URL.Query().Get("archive"); archive != "" {
		name := filepath.Base(archive)
		if _, err := parseKubeletArchive(name); err != nil {
			return nil, badRequest("%v", err)
		}
		if err := os.Remove(filepath.Join(a.config.KubeletCheckpointDir, name)); err != nil && !os.IsNotExist(err) {
			problems = append(problems, err.Error())
		}
	}
	if _, err := a.removePushed(r.Context(), filepath.Join(a.config.storeDir(), key)); err != nil {
		problems = append(problems, err.Error())
	}
	if err := os.RemoveAll(filepath.Join(a.config.storeDir(), key)); err != nil {
		problems = append(problems, err.Error())
	}
	if err := a.removeShared(key); err != nil {
		problems = append(problems, err.Error())
	}
	for _, step := range []string{"dump", "restore"} {
		_ = os.Remove(criuLogPath(a.config.criuDir(), key, step))
	}
	_ = os.RemoveAll(filepath.Dir(criuOptionsPath(a.config.criuDir(), key, "dump")))
	a.mu.Lock()
	delete(a.trials, key)
	a.mu.Unlock()
	return map[string][]string{"problems": problems}, nil
}

// removeLeftovers (migbench cleanup), for the namespace the request names (or every namespace,
// trial_namespace.go): migbench pods of it a move left stopped resumed, so their deletion ends them
// at once; then its checkpoint images, kubelet archives, received archives, pushed images, unpacked
// checkpoints, CRIU options and logs and shared-volume archives. Another namespace's stay whole.
func (a *agent) removeLeftovers(w http.ResponseWriter, r *http.Request) (any, error) {
	scope, err := leftoverScopeOf(r)
	if err != nil {
		return nil, err
	}
	removed := []string{}
	pods, err := a.runtime.migbenchPods(r.Context())
	if err != nil {
		return nil, err
	}
	for _, pod := range pods {
		if scope.owns(pod.Namespace, true) && stoppedProcesses(a.config.CgroupRoot, "/proc", pod.UID) > 0 {
			if n, err := resumePod(a.config.CgroupRoot, pod.UID); err == nil {
				removed = append(removed, fmt.Sprintf("resumed %d stopped processes of pod %s/%s on %s", n, pod.Namespace, pod.Name, a.config.NodeName))
			}
		}
	}
	images, err := a.runtime.listImages(r.Context(), checkpointImagePrefix)
	if err != nil {
		return nil, err
	}
	for _, image := range images {
		if scope.owns(checkpointImageNamespace(image)) && a.runtime.removeImage(r.Context(), image) == nil {
			removed = append(removed, fmt.Sprintf("checkpoint image %s on %s", image, a.config.NodeName))
		}
	}
	pulled, _ := a.removePulledImages(r.Context(), "", scope)
	for _, image := range pulled {
		removed = append(removed, fmt.Sprintf("checkpoint image %s on %s", image, a.config.NodeName))
	}
	removed = append(removed, a.removeLeftoverFiles(r.Context(), scope, pods)...)
	return map[string][]string{"removed": removed}, nil
}

// removeLeftoverFiles: the scope's files on this node (pods: migbench's pod sandboxes here, which
// settle whose a kubelet archive is), one line each.
func (a *agent) removeLeftoverFiles(ctx context.Context, scope leftoverScope, pods []podSandbox) []string {
	var removed []string
	entries, _ := os.ReadDir(a.config.KubeletCheckpointDir)
	for _, e := range entries {
		if scope.ownsArchive(e.Name(), pods) && os.Remove(filepath.Join(a.config.KubeletCheckpointDir, e.Name())) == nil {
			removed = append(removed, fmt.Sprintf("checkpoint archive %s on %s", e.Name(), a.config.NodeName))
		}
	}
	stored, _ := os.ReadDir(a.config.storeDir())
	for _, e := range stored {
		dir := filepath.Join(a.config.storeDir(), e.Name())
		if !scope.ownsDir(dir) {
			continue
		}
		if pushed, err := a.removePushed(ctx, dir); err != nil {
			removed = append(removed, fmt.Sprintf("(could not delete from the registry: %v)", err))
		} else if pushed != "" {
			removed = append(removed, fmt.Sprintf("checkpoint image %s pushed from %s", pushed, a.config.NodeName))
		}
		if os.RemoveAll(dir) == nil {
			removed = append(removed, fmt.Sprintf("received archive of trial %s on %s", e.Name(), a.config.NodeName))
		}
	}
	trials, _ := os.ReadDir(filepath.Join(a.config.criuDir(), "trials"))
	for _, e := range trials {
		if scope.ownsDir(criuTrialDir(a.config.criuDir(), e.Name())) {
			for _, step := range []string{"dump", "restore"} {
				_ = os.Remove(criuLogPath(a.config.criuDir(), e.Name(), step))
			}
			_ = os.RemoveAll(criuTrialDir(a.config.criuDir(), e.Name()))
		}
	}
	if scope.all {
		// Logs of trials whose options are gone (no namespace to tell): every one but the manual checkpoints'.
		logs, _ := os.ReadDir(filepath.Join(a.config.criuDir(), "logs"))
		for _, e := range logs {
			if !strings.HasPrefix(e.Name(), manualKey+".") {
				_ = os.Remove(filepath.Join(a.config.criuDir(), "logs", e.Name()))
			}
		}
	}
	removed = append(removed, a.removeRestoreDirs(scope)...)
	removed = append(removed, a.removeSharedLeftovers(scope)...)
	a.mu.Lock()
	for key, t := range a.trials {
		if scope.owns(t.namespace, t.namespace != "") {
			delete(a.trials, key)
		}
	}
	a.mu.Unlock()
	return removed
}
