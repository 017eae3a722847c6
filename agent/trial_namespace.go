// Which namespace a trial's state on the node belongs to, so `migbench cleanup --namespace NS`
// (POST /v1/leftovers) removes that namespace's leftovers only and another run going on in another
// namespace keeps its stopped source, archives, images and shared-volume files. The agent learns a
// trial's namespace from the request that first makes its state (prepare, share, take, push, the
// restore directory; a received archive from the trial's prepare) and writes it into each of the
// trial's directories as migbench-trial.json (root-only): it survives an agent restart and a killed
// migbench, and on the shared volume every node's agent reads what the source's agent wrote. The
// rest is named so: a kubelet archive checkpoint-<pod>_<namespace>-…, a checkpoint image
// …/migbench-checkpoint/<namespace>/<pod>, a pod sandbox by containerd's io.kubernetes.pod.namespace.
//
// State without a namespace (made by a migbench from before the namespace was recorded: a directory
// without migbench-trial.json, an image named …/migbench-checkpoint/<pod>) belongs to no namespace:
// only a cleanup with allNamespaces (`--all-namespaces`) removes it. A cleanup cannot tell whose
// it is, and removing another run's state corrupts that run while keeping an old leftover costs
// only disk space until someone who knows no run is going on asks for all of it.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

const trialMetaFile = "migbench-trial.json"

// A Kubernetes namespace's name: a DNS-1123 label.
var namespacePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func validNamespace(ns string) error {
	if !namespacePattern.MatchString(ns) {
		return fmt.Errorf("namespace %q: the trial's Kubernetes namespace (a DNS-1123 label) is required", ns)
	}
	return nil
}

type trialMeta struct {
	Namespace string `json:"namespace"`
}

// markTrialDir makes dir (root-only) and records in it the namespace of the trial it holds; written
// before anything else goes in, so no state of the trial is ever without it.
func markTrialDir(dir, namespace string) error {
	if err := validNamespace(namespace); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	_ = os.Chmod(dir, 0o700)
	b, err := json.Marshal(trialMeta{Namespace: namespace})
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, trialMetaFile), b, 0o600)
}

// trialDirNamespace is the namespace recorded in a trial's directory; false when none is (older state).
func trialDirNamespace(dir string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, trialMetaFile))
	if err != nil {
		return "", false
	}
	var meta trialMeta
	if json.Unmarshal(b, &meta) != nil || validNamespace(meta.Namespace) != nil {
		return "", false
	}
	return meta.Namespace, true
}

// leftoverScope is what one cleanup removes: one namespace's state, or (all) every namespace's and
// the state no namespace is recorded for.
type leftoverScope struct {
	namespace string
	all       bool
}

func (s leftoverScope) String() string {
	if s.all {
		return "every namespace"
	}
	return "namespace " + s.namespace
}

// owns: whether state of namespace ns (known: a namespace is recorded for it) is this cleanup's.
func (s leftoverScope) owns(ns string, known bool) bool {
	return s.all || (known && ns == s.namespace)
}

// ownsDir: whether the trial directory dir is this cleanup's.
func (s leftoverScope) ownsDir(dir string) bool {
	ns, known := trialDirNamespace(dir)
	return s.owns(ns, known)
}

// leftoverScopeOf reads POST /v1/leftovers' body: {"namespace": NS} or {"allNamespaces": true}.
func leftoverScopeOf(r *http.Request) (leftoverScope, error) {
	var body struct {
		Namespace     string `json:"namespace"`
		AllNamespaces bool   `json:"allNamespaces"`
	}
	if err := decode(r, &body); err != nil {
		return leftoverScope{}, err
	}
	if body.AllNamespaces {
		if body.Namespace != "" {
			return leftoverScope{}, badRequest("namespace %q with allNamespaces: one or the other", body.Namespace)
		}
		return leftoverScope{all: true}, nil
	}
	if err := validNamespace(body.Namespace); err != nil {
		return leftoverScope{}, badRequest("%v (or allNamespaces: true)", err)
	}
	return leftoverScope{namespace: body.Namespace}, nil
}

// podSandbox is a migbench pod on the node, as containerd's sandbox labels name it.
type podSandbox struct {
	UID, Name, Namespace string
}

// ownsArchive: whether a kubelet archive (checkpoint-<pod>_<namespace>-<container>-<time>.tar) is of
// this cleanup's namespace. The name is ambiguous where namespaces have dashes (checkpoint-p_a-b-c-…
// is namespace a's container b-c or namespace a-b's container c): a migbench pod of that name in a
// longer namespace that reads so, running on the node, claims it. Without such a pod nobody needs
// the archive any more (a move needs it only while its source pod is there).
func (s leftoverScope) ownsArchive(name string, pods []podSandbox) bool {
	parsed, err := parseKubeletArchive(name)
	if err != nil {
		return false
	}
	if s.all {
		return true
	}
	rest := strings.TrimPrefix(name, "checkpoint-"+parsed.Pod+"_")
	if !strings.HasPrefix(rest, s.namespace+"-") {
		return false
	}
	for _, p := range pods {
		if p.Name == parsed.Pod && p.Namespace != s.namespace && strings.HasPrefix(rest, p.Namespace+"-") {
			return false
		}
	}
	return true
}

// checkpointImageNamespace is the namespace in a checkpoint image's name (localhost/migbench-checkpoint/<namespace>/<pod>:<trial>,
// or pushed and pulled <registry>/migbench-checkpoint/<namespace>/<pod>@sha256:…); false for one without (older).
func checkpointImageNamespace(name string) (string, bool) {
	m := checkpointImageParts.FindStringSubmatch(name)
	if m == nil || m[1] == "" {
		return "", false
	}
	return m[1], true
}

// The path after the registry: migbench-checkpoint/[<namespace>/]<pod> and a tag or digest (the
// first migbench-checkpoint segment counts).
var checkpointImageParts = regexp.MustCompile(`^[a-z0-9.-]+(?::[0-9]{1,5})?(?:/[a-z0-9._-]+)*?/migbench-checkpoint/(?:([a-z0-9][a-z0-9-]{0,62})/)?[a-z0-9][a-z0-9._-]{0,127}(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[0-9a-f]{64})$`)

// claimTrial: the trial's namespace as a request names it (required), the same the trial was first
// made with on this node (a trial of one namespace is never touched as another's).
func (a *agent) claimTrial(key, namespace string) (*trialState, error) {
	if err := validNamespace(namespace); err != nil {
		return nil, badRequest("%v", err)
	}
	t := a.trial(key)
	a.mu.Lock()
	defer a.mu.Unlock()
	if t.namespace == "" {
		t.namespace = namespace
	} else if t.namespace != namespace {
		return nil, httpError{http.StatusConflict, fmt.Sprintf("trial %s on %s is of namespace %s, not %s", key, a.config.NodeName, t.namespace, namespace)}
	}
	return t, nil
}

// criuTrialDir holds a trial's CRIU options (criuOptionsPath) and its namespace.
func criuTrialDir(criuDir, key string) string { return filepath.Join(criuDir, "trials", key) }

// claimImage: claimTrial, and the checkpoint image's name carries the trial's namespace (cleanup finds it by it).
func (a *agent) claimImage(key, namespace, image string) (*trialState, error) {
	t, err := a.claimTrial(key, namespace)
	if err != nil {
		return nil, err
	}
	if ns, _ := checkpointImageNamespace(image); ns != namespace {
		return nil, badRequest("image %q of trial %s: its name's namespace is not the trial's (%s)", image, key, namespace)
	}
	return t, nil
}
