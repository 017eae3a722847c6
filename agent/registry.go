// Checkpoint images delivered through a registry (kubelet-checkpoint `delivery: registry`, the path
// Kubernetes documents): the source node's agent builds the checkpoint image from the kubelet's
// archive and pushes it to the registry the scenario names — the archive streamed once as the
// layer, its sha256 computed on the way (OCI distribution spec: POST an upload, PATCH the bytes, PUT
// with the digest) — and the target node's kubelet pulls it by digest. Every push is recorded in the
// trial's store directory (root-only), so the trial's removal and `migbench cleanup` delete the
// manifest and its blobs from the registry again, also after migbench was killed. A registry that
// wants a login gets the credentials `migbench agent install --registry-secret` mounted, one with a
// private CA the CA `--registry-ca` mounted (registry_auth.go); a checkpoint holds the process's
// whole memory, so it goes only to the registry the user named.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

const pushedFile = "pushed.json"

// host[:port][/path], lower case as repositories are (the scenario's kubelet-checkpoint `registry`).
var registryPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)

func validRegistry(registry string) error {
	if !registryPattern.MatchString(registry) {
		return fmt.Errorf("registry %q: host[:port][/path]", registry)
	}
	return nil
}

// pushedImage is what a push left in the registry: enough to delete it.
type pushedImage struct {
	Registry  string   `json:"registry"`
	PlainHTTP bool     `json:"plainHttp"`
	Repo      string   `json:"repo"`
	Manifest  string   `json:"manifest"`
	Blobs     []string `json:"blobs"`
	Reference string   `json:"reference"`
}

// registryClient speaks the OCI distribution API to one registry.
type registryClient struct {
	base   string // scheme://host[:port]
	prefix string // the registry's path, "" or "/team"
	http   *http.Client
	auth   *registryAuth
}

// newRegistryClient: logins are the mounted dockerconfigjson's (registryLogins), nil for none.
func newRegistryClient(registry string, plainHTTP bool, client *http.Client, logins map[string]registryLogin) (*registryClient, error) {
	if err := validRegistry(registry); err != nil {
		return nil, err
	}
	host, path, _ := strings.Cut(registry, "/")
	scheme := "https"
	if plainHTTP {
		scheme = "http"
	}
	prefix := ""
	if path != "" {
		prefix = "/" + path
	}
	auth := &registryAuth{host: host, http: client, tokens: map[string]string{}}
	if login, ok := logins[host]; ok {
		auth.login = &login
	}
	return &registryClient{base: scheme + "://" + host, prefix: prefix, http: client, auth: auth}, nil
}

// scopeOf is the token scope a request on repo needs (distribution's actions: pull, push, delete).
func scopeOf(method, repo string) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return "repository:" + repo + ":pull"
	case http.MethodDelete:
		return "repository:" + repo + ":delete"
	}
	return "repository:" + repo + ":push,pull"
}

// repo is the repository's name inside the registry (the registry's path, then the image's).
func (c *registryClient) repo(name string) string { return strings.TrimPrefix(c.prefix+"/"+name, "/") }

func (c *registryClient) do(ctx context.Context, method, target, repo string, body io.Reader, size int64, contentType string, want ...int) (*http.Response, error) {
	scope := scopeOf(method, repo)
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.ContentLength = size
			req.Header.Set("Content-Type", contentType)
		}
		if method == http.MethodGet {
			// A manifest read back by digest (distribution answers 404 to a client that does not accept OCI manifests).
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
		}
		c.auth.authorize(req, scope)
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, explainTLS(err)
		}
		for _, status := range want {
			if resp.StatusCode == status {
				return resp, nil
			}
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		// A streamed body cannot be sent twice: the first request of a push (the upload's POST, no body) meets the challenge.
		replayable := body == nil || body == http.NoBody || req.GetBody != nil
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 && replayable {
			if err := c.auth.answer(ctx, resp.Header.Get("WWW-Authenticate"), scope); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, target, err)
			}
			if req.GetBody != nil {
				if body, err = req.GetBody(); err != nil {
					return nil, err
				}
			}
			continue
		}
		if resp.StatusCode == http.StatusUnauthorized && c.auth.login == nil {
			return nil, fmt.Errorf("%s %s: %w", method, target, c.auth.answer(ctx, "", scope))
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt > 0 {
			return nil, fmt.Errorf("%s %s: the registry refused the credentials for %s (401): are they right, and may they push, pull and delete?", method, target, c.auth.host)
		}
		return nil, fmt.Errorf("%s %s: %d %s", method, target, resp.StatusCode, strings.TrimSpace(string(answer)))
	}
}

// location resolves an upload's Location header against the registry's base.
func (c *registryClient) location(resp *http.Response) (*url.URL, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, errors.New("the registry gave no upload location")
	}
	base, _ := url.Parse(c.base + "/")
	return base.Parse(loc)
}

// putBlob uploads one blob: the bytes in one PATCH, their digest computed on the way unless given.
func (c *registryClient) putBlob(ctx context.Context, repo string, body io.Reader, size int64, digest string) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, fmt.Sprintf("%s/v2/%s/blobs/uploads/", c.base, repo), repo, nil, 0, "", http.StatusAccepted)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	upload, err := c.location(resp)
	if err != nil {
		return "", err
	}
	hash := sha256.New()
	resp, err = c.do(ctx, http.MethodPatch, upload.String(), repo, io.TeeReader(body, hash), size, "application/octet-stream", http.StatusAccepted, http.StatusNoContent)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if sum := "sha256:" + hex.EncodeToString(hash.Sum(nil)); digest == "" {
		digest = sum
	} else if digest != sum {
		return "", fmt.Errorf("blob digest %s, expected %s", sum, digest)
	}
	if next, err := c.location(resp); err == nil {
		upload = next
	}
	q := upload.Query()
	q.Set("digest", digest)
	upload.RawQuery = q.Encode()
	resp, err = c.do(ctx, http.MethodPut, upload.String(), repo, http.NoBody, 0, "application/octet-stream", http.StatusCreated)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return digest, nil
}

func (c *registryClient) putManifest(ctx context.Context, repo, tag string, manifest []byte) (string, error) {
	resp, err := c.do(ctx, http.MethodPut, fmt.Sprintf("%s/v2/%s/manifests/%s", c.base, repo, tag), repo, bytes.NewReader(manifest), int64(len(manifest)),
		"application/vnd.oci.image.manifest.v1+json", http.StatusCreated)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	digest := sha(manifest)
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != digest {
		return "", fmt.Errorf("the registry stored the manifest as %s, pushed %s", got, digest)
	}
	return digest, nil
}

// remove deletes a pushed image: the manifest, then its blobs (distribution needs storage.delete.enabled;
// the bytes go at its next garbage collection). Gone already counts as removed.
func (c *registryClient) remove(ctx context.Context, p pushedImage) error {
	var problems []string
	targets := []string{fmt.Sprintf("%s/v2/%s/manifests/%s", c.base, p.Repo, p.Manifest)}
	for _, b := range p.Blobs {
		targets = append(targets, fmt.Sprintf("%s/v2/%s/blobs/%s", c.base, p.Repo, b))
	}
	for _, target := range targets {
		resp, err := c.do(ctx, http.MethodDelete, target, p.Repo, nil, 0, "", http.StatusAccepted, http.StatusOK, http.StatusNotFound)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		resp.Body.Close()
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// registryClient is a client for one push or removal: the mounted logins read now (a reinstall with
// another --registry-secret takes effect at once), the registry's TLS roots those the agent started with.
func (a *agent) registryClient(registry string, plainHTTP bool) (*registryClient, error) {
	if err := validRegistry(registry); err != nil {
		return nil, badRequest("%v", err)
	}
	logins, err := registryLogins(a.config.RegistryAuthFile)
	if err != nil {
		return nil, err
	}
	return newRegistryClient(registry, plainHTTP, a.registryHTTP, logins)
}

type pushResult struct {
	Reference string `json:"reference"`
	Bytes     int64  `json:"bytes"`
	Sha256    string `json:"sha256"`
	// CRIU's dump statistics from the archive (stats-dump, protobuf), when it has them.
	StatsDump []byte `json:"statsDump,omitempty"`
}

// push (source node): builds the checkpoint image from a migbench pod's archive in the kubelet's
// directory and pushes it to the named registry; answers its reference by digest.
func (a *agent) push(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Archive   string `json:"archive"`
		Container string `json:"container"`
		Image     string `json:"image"`
		Registry  string `json:"registry"`
		PlainHTTP bool   `json:"plainHttp"`
		Namespace string `json:"namespace"`
	}
	if err := decode(r, &body); err != nil {
		return nil, err
	}
	if err := validImageName(body.Image); err != nil {
		return nil, badRequest("%v", err)
	}
	if _, err := a.claimImage(key, body.Namespace, body.Image); err != nil {
		return nil, err
	}
	client, err := a.registryClient(body.Registry, body.PlainHTTP)
	if err != nil {
		return nil, err
	}
	f, path, parsed, err := a.openOwnArchive(r.Context(), body.Archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// localhost/migbench-checkpoint/<pod>:<tag> → <registry>/migbench-checkpoint/<pod>:<tag>
	repoName, _, _ := strings.Cut(strings.TrimPrefix(body.Image, "localhost/"), ":")
	record := pushedImage{Registry: body.Registry, PlainHTTP: body.PlainHTTP, Repo: client.repo(repoName)}
	dir := filepath.Join(a.config.storeDir(), key)
	if err := markTrialDir(dir, body.Namespace); err != nil {
		return nil, err
	}
	// Recorded before each step, so a push cut off half-way is still found and deleted.
	save := func() error {
		b, err := json.Marshal(record)
		if err != nil {
			return err
		}
		return writeFileAtomic(filepath.Join(dir, pushedFile), b, 0o600)
	}
	if err := client.pushCheckpointImage(r.Context(), body.Image, body.Container, f, info.Size(), &record, save); err != nil {
		return nil, fmt.Errorf("pushing the checkpoint of %s to %s: %w", parsed.Pod, body.Registry, err)
	}
	layerDigest := record.Blobs[0]
	stats, _ := statsDump(path, 1<<20)
	return pushResult{Reference: record.Reference, Bytes: info.Size(), Sha256: strings.TrimPrefix(layerDigest, "sha256:"), StatsDump: stats}, nil
}

// pushCheckpointImage pushes the archive as the checkpoint image's layer, then its config and
// manifest, filling record (and saving it before each step, so a push cut off half-way is still
// found and deleted) with what the registry holds.
func (c *registryClient) pushCheckpointImage(ctx context.Context, image, container string, archive *os.File, size int64, record *pushedImage, save func() error) error {
	repoName, tag, _ := strings.Cut(strings.TrimPrefix(image, "localhost/"), ":")
	repo := c.repo(repoName)
	layerDigest, err := c.putBlob(ctx, repo, archive, size, "")
	if err != nil {
		return fmt.Errorf("the archive: %w", err)
	}
	record.Blobs = append(record.Blobs, layerDigest)
	if err := save(); err != nil {
		return err
	}
	img, err := newCheckpointImage(image, container, archive.Name(), layerDigest, size)
	if err != nil {
		return badRequest("%v", err)
	}
	manifest, config, err := img.manifestAndConfig()
	if err != nil {
		return err
	}
	configDigest, err := c.putBlob(ctx, repo, bytes.NewReader(config), int64(len(config)), sha(config))
	if err != nil {
		return fmt.Errorf("the image config: %w", err)
	}
	record.Blobs = append(record.Blobs, configDigest)
	record.Manifest = sha(manifest)
	record.Reference = fmt.Sprintf("%s/%s@%s", strings.SplitN(record.Registry, "/", 2)[0], repo, record.Manifest)
	if err := save(); err != nil {
		return err
	}
	if _, err := c.putManifest(ctx, repo, tag, manifest); err != nil {
		return fmt.Errorf("the manifest: %w", err)
	}
	return nil
}

// manifestAndConfig picks the image's manifest (the one its index names) and config out of its blobs.
func (img *checkpointImage) manifestAndConfig() (manifest, config []byte, err error) {
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(img.indexJSON, &index); err != nil || len(index.Manifests) != 1 {
		return nil, nil, fmt.Errorf("the checkpoint image's index: %v", err)
	}
	for digest, b := range img.blobs {
		if digest == index.Manifests[0].Digest {
			manifest = b
		} else {
			config = b
		}
	}
	if manifest == nil || config == nil {
		return nil, nil, errors.New("the checkpoint image has no manifest or config")
	}
	return manifest, config, nil
}

// removePushed deletes what the trial in `dir` pushed, if anything (its reference, or ""); the record
// goes once the registry agreed.
func (a *agent) removePushed(ctx context.Context, dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, pushedFile))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var p pushedImage
	if err := json.Unmarshal(b, &p); err != nil {
		return "", err
	}
	client, err := a.registryClient(p.Registry, p.PlainHTTP)
	if err != nil {
		return "", err
	}
	if p.Manifest == "" {
		// Cut off before the manifest: only blobs to remove.
		p.Manifest = "sha256:" + strings.Repeat("0", 64)
	}
	if err := client.remove(ctx, p); err != nil {
		return "", fmt.Errorf("checkpoint image %s in %s: %w", p.Reference, p.Registry, err)
	}
	return p.Reference, os.Remove(filepath.Join(dir, pushedFile))
}

// A checkpoint image the node's kubelet pulled from a registry (delivery: registry):
// <registry>/migbench-checkpoint/<namespace>/<pod>@sha256:… (or, older, without the namespace).
var pulledImagePattern = checkpointImageParts

// removePulledImages removes from the node's containerd the pulled checkpoint image `only` (or, when
// only is "", every pulled checkpoint image of the scope), with every other name the CRI gave the
// same image (its id, sha256:<config>); the names removed.
func (a *agent) removePulledImages(parent context.Context, only string, scope leftoverScope) ([]string, error) {
	if only != "" && !pulledImagePattern.MatchString(only) {
		return nil, badRequest("image %q: a pulled checkpoint image is <registry>/migbench-checkpoint/<pod>@sha256:<digest>", only)
	}
	ctx := a.runtime.ctx(parent)
	list, err := a.runtime.client.ImageService().List(ctx)
	if err != nil {
		return nil, err
	}
	targets := map[string]bool{}
	for _, i := range list {
		if (only == "" && pulledImagePattern.MatchString(i.Name) && scope.owns(checkpointImageNamespace(i.Name))) || i.Name == only {
			targets[i.Target.Digest.String()] = true
		}
	}
	var removed []string
	for _, i := range list {
		if targets[i.Target.Digest.String()] {
			if err := a.runtime.removeImage(parent, i.Name); err != nil {
				return removed, err
			}
			removed = append(removed, i.Name)
		}
	}
	return removed, nil
}
