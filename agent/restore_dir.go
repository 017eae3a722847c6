// The runtime handler's side of a trial (strategy runtime-restore): the received kubelet archive
// unpacked where the node's runc wrapper (cmd/migbench-runc) restores from — <state dir>/restore/<key>/
// with checkpoint/, rootfs-diff.tar, deleted.files — and `ready` written last, which the wrapper's
// waiting create takes as its go; `failed` with the reason when the unpack fails, so a create that
// waits ends at once. The target pod names the key in its migbench.io/restore-from annotation.
package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

func (c config) restoreDir(key string) string { return filepath.Join(c.StateDir, "restore", key) }

// unpackForRestore (POST /v1/trials/{key}/restore-dir) unpacks the trial's received archive for the wrapper.
func (a *agent) unpackForRestore(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	namespace, err := a.restoreDirNamespace(r, key)
	if err != nil {
		return nil, err
	}
	archive, err := a.storedArchive(key)
	if err != nil {
		return nil, err
	}
	dir := a.config.restoreDir(key)
	if err := markTrialDir(dir, namespace); err != nil {
		return nil, err
	}
	if err := unpackArchive(archive, dir); err != nil {
		_ = os.WriteFile(filepath.Join(dir, "failed"), []byte(err.Error()+"\n"), 0o600)
		return nil, err
	}
	// The received copy is not needed once unpacked (the restore reads the unpacked one).
	_ = os.Remove(archive)
	return nil, os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600)
}

// prepareRestoreDir (PUT /v1/trials/{key}/restore-dir): the empty directory a target pod created
// before the dump waits on (the wrapper refuses a checkpoint nobody prepared).
func (a *agent) prepareRestoreDir(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	namespace, err := a.restoreDirNamespace(r, key)
	if err != nil {
		return nil, err
	}
	return nil, markTrialDir(a.config.restoreDir(key), namespace)
}

// restoreDirNamespace: the namespace the request's body names ({"namespace": NS}), the trial's.
func (a *agent) restoreDirNamespace(r *http.Request, key string) (string, error) {
	var body struct {
		Namespace string `json:"namespace"`
	}
	if err := decode(r, &body); err != nil {
		return "", err
	}
	if _, err := a.claimTrial(key, body.Namespace); err != nil {
		return "", err
	}
	return body.Namespace, nil
}

// restoreDirState (GET /v1/trials/{key}/restore-dir): whether the wrapper waits on it, whether it is ready.
func (a *agent) restoreDirState(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(a.config.restoreDir(key), name))
		return err == nil
	}
	return map[string]bool{"prepared": exists("."), "waiting": exists("waiting"), "ready": exists("ready")}, nil
}

// removeRestoreDir (DELETE /v1/trials/{key}/restore-dir): the trial's unpacked checkpoint, gone.
func (a *agent) removeRestoreDir(w http.ResponseWriter, r *http.Request) (any, error) {
	key, err := a.trialKey(r)
	if err != nil {
		return nil, err
	}
	return nil, os.RemoveAll(a.config.restoreDir(key))
}

// removeRestoreDirs: the scope's trials' unpacked checkpoints (`migbench cleanup`), one line each.
func (a *agent) removeRestoreDirs(scope leftoverScope) []string {
	var removed []string
	entries, _ := os.ReadDir(filepath.Join(a.config.StateDir, "restore"))
	for _, e := range entries {
		if scope.ownsDir(a.config.restoreDir(e.Name())) && os.RemoveAll(a.config.restoreDir(e.Name())) == nil {
			removed = append(removed, fmt.Sprintf("unpacked checkpoint of trial %s on %s", e.Name(), a.config.NodeName))
		}
	}
	return removed
}

// unpackArchive writes the archive's regular files and directories under dir (through os.Root: no
// entry reaches outside it). A checkpoint archive holds nothing else.
func unpackArchive(archive, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(archive), err)
		}
		name := filepath.Clean("/" + h.Name)[1:]
		if name == "" || name == trialMetaFile {
			// The trial's namespace stays as the agent wrote it.
			continue
		}
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			out, err := root.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		}
	}
}
