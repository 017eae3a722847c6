// The archive's other way to the target node (kubelet-checkpoint's and runtime-restore's transfer: shared-volume):
// through a ReadWriteMany volume every agent mounts (`migbench agent install --shared-class|--shared-claim`,
// the DaemonSet's SHARED_DIR) instead of the agent-to-agent stream. The source's agent writes the
// kubelet's archive once to <shared>/<key>/checkpoint.tar with its sha256 beside it; the target's
// agent reads it once into its store (the same place a streamed archive lands, so the image, the
// import and runtime-restore's unpack run exactly as after a stream), checking the sha256 the source
// reported, and removes the trial's directory from the volume — on success and on failure. The
// files are root-only; a trial's removal and `migbench cleanup` remove what a failed move left.
package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

const sharedDigestFile = archiveFile + ".sha256"

func (c config) sharedTrialDir(key string) string { return filepath.Join(c.SharedDir, key) }

// writeShared copies an archive into dir/checkpoint.tar (storeArchive: whole or not at all, synced)
// with its sha256 in dir/checkpoint.tar.sha256, the trial's namespace first (every node's cleanup
// reads it there); on any error dir is removed.
func writeShared(archive io.Reader, dir, namespace string) (result transferResult, err error) {
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := markTrialDir(dir, namespace); err != nil {
		return result, err
	}
	// On NFS, close-to-open consistency: the target's open after our close sees every byte.
	return storeArchive(archive, dir, "writing the archive to the shared volume", true, func(sum string) error {
		return os.WriteFile(filepath.Join(dir, sharedDigestFile), []byte(sum+"\n"), 0o600)
	})
}

// takeShared copies dir/checkpoint.tar into storeDir/checkpoint.tar, checking its sha256 against the
// one the source reported (and wrote beside it); dir is removed whatever the outcome.
func takeShared(dir, storeDir, wantSha256 string) (result transferResult, err error) {
	defer func() { _ = os.RemoveAll(dir) }()
	written, err := os.ReadFile(filepath.Join(dir, sharedDigestFile))
	if err != nil {
		return result, fmt.Errorf("no archive on the shared volume: %w", err)
	}
	digest := strings.TrimSpace(string(written))
	if wantSha256 != "" && digest != wantSha256 {
		return result, fmt.Errorf("the shared volume holds an archive with sha256 %s, the source wrote %s", digest, wantSha256)
	}
	src, err := os.Open(filepath.Join(dir, archiveFile))
	if err != nil {
		return result, fmt.Errorf("no archive on the shared volume: %w", err)
	}
	defer src.Close()
	return storeArchive(src, storeDir, "reading the archive from the shared volume", false, func(sum string) error {
		if sum != digest {
			return fmt.Errorf("the archive read from the shared volume has sha256 %s, the source wrote %s", sum, digest)
		}
		return nil
	})
}

func (a *agent) sharedDir() (string, error) {
	if a.config.SharedDir == "" {
		return "", httpError{http.StatusConflict, fmt.Sprintf("the agent on %s has no shared volume (migbench agent install --shared-class CLASS or --shared-claim CLAIM)", a.config.NodeName)}
	}
	return a.config.SharedDir, nil
}

// share (POST /v1/trials/{key}/share, source): a migbench pod's archive from the kubelet's directory
// onto the shared volume, then removed here (as after a stream).
func (a *agent) share(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	if _, err := a.sharedDir(); err != nil {
		return nil, err
	}
	var body struct {
		Archive   string `json:"archive"`
		Namespace string `json:"namespace"`
	}
	if err := decode(r, &body); err != nil {
		return nil, err
	}
	if _, err := a.claimTrial(key, body.Namespace); err != nil {
		return nil, err
	}
	f, path, _, err := a.openOwnArchive(r.Context(), body.Archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	result, err := writeShared(f, a.config.sharedTrialDir(key), body.Namespace)
	if err != nil {
		return nil, err
	}
	_ = os.Remove(path)
	return result, nil
}

// take (POST /v1/trials/{key}/take, target): the trial's archive from the shared volume into this
// node's store, its sha256 checked against the source's; the volume's copy removed either way.
func (a *agent) take(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	if _, err := a.sharedDir(); err != nil {
		return nil, err
	}
	var body struct {
		Sha256    string `json:"sha256"`
		Namespace string `json:"namespace"`
	}
	if err := decode(r, &body); err != nil {
		return nil, err
	}
	t, err := a.claimTrial(key, body.Namespace)
	if err != nil {
		return nil, err
	}
	store := filepath.Join(a.config.storeDir(), key)
	if err := markTrialDir(store, body.Namespace); err != nil {
		return nil, err
	}
	result, err := takeShared(a.config.sharedTrialDir(key), store, body.Sha256)
	if err != nil {
		return nil, err
	}
	t.layerDigest, t.layerSize = "sha256:"+result.Sha256, result.Bytes
	return result, nil
}

// removeShared: a trial's directory on the shared volume (a move that failed between share and take).
func (a *agent) removeShared(key string) error {
	if a.config.SharedDir == "" {
		return nil
	}
	if err := os.RemoveAll(a.config.sharedTrialDir(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// removeSharedLeftovers (`migbench cleanup`): the scope's trials' directories on the shared volume
// (another namespace's run may be passing an archive through it right now), one line each.
func (a *agent) removeSharedLeftovers(scope leftoverScope) []string {
	if a.config.SharedDir == "" {
		return nil
	}
	var removed []string
	entries, _ := os.ReadDir(a.config.SharedDir)
	for _, e := range entries {
		if validTrialKey(e.Name()) != nil || !scope.ownsDir(filepath.Join(a.config.SharedDir, e.Name())) {
			continue
		}
		if os.RemoveAll(filepath.Join(a.config.SharedDir, e.Name())) == nil {
			removed = append(removed, fmt.Sprintf("archive of trial %s on the shared volume (seen from %s)", e.Name(), a.config.NodeName))
		}
	}
	return removed
}
