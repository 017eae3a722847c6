// The kubelet's checkpoint archives: which ones the agent may touch (migbench's pods' only), and
// CRIU's dump statistics from one without unpacking it; storing one where another step reads it.
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The kubelet names its archives checkpoint-<pod>_<namespace>-<container>-<RFC3339 time>.tar
// (pkg/kubelet/kubelet.go CheckpointContainer).
var kubeletArchivePattern = regexp.MustCompile(`^checkpoint-([a-z0-9][a-z0-9.-]*)_([a-z0-9][a-z0-9-]*)-(.+)-(\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d))\.tar$`)

type kubeletArchive struct {
	Pod, Namespace, ContainerAndRest string
}

// parseKubeletArchive accepts a bare file name of the kubelet's form and of a migbench pod (migbench-*).
func parseKubeletArchive(name string) (kubeletArchive, error) {
	if strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		return kubeletArchive{}, fmt.Errorf("%q is not a file name", name)
	}
	m := kubeletArchivePattern.FindStringSubmatch(name)
	if m == nil {
		return kubeletArchive{}, fmt.Errorf("%q is not a kubelet checkpoint archive's name (checkpoint-<pod>_<namespace>-<container>-<time>.tar)", name)
	}
	if !strings.HasPrefix(m[1], "migbench-") {
		return kubeletArchive{}, fmt.Errorf("%q is not a migbench pod's archive", name)
	}
	return kubeletArchive{Pod: m[1], Namespace: m[2], ContainerAndRest: m[3]}, nil
}

// statsDump returns the stats-dump member of a checkpoint archive (CRIU's dump statistics, protobuf).
func statsDump(path string, maxBytes int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := tar.NewReader(f)
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(h.Name, "./") == "stats-dump" {
			if h.Size > maxBytes {
				return nil, fmt.Errorf("stats-dump is %d bytes", h.Size)
			}
			return io.ReadAll(r)
		}
	}
}

var podUIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// storeArchive copies src into dir/checkpoint.tar by way of a .partial file, renamed only once the
// copy is whole and `accept` (nil: any) takes its sha256 — a reader never sees part of an archive.
// `sync` flushes it first (a shared volume another node reads: a crash must not leave a short file
// named complete). `what` names the copy in its error; a failed copy leaves no file.
func storeArchive(src io.Reader, dir, what string, sync bool, accept func(sha256 string) error) (transferResult, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return transferResult{}, err
	}
	path := filepath.Join(dir, archiveFile)
	f, err := os.OpenFile(path+".partial", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return transferResult{}, err
	}
	hash := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, hash), src)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path + ".partial")
		return transferResult{}, fmt.Errorf("%s: %w", what, err)
	}
	sum := hex.EncodeToString(hash.Sum(nil))
	if accept != nil {
		if err := accept(sum); err != nil {
			_ = os.Remove(path + ".partial")
			return transferResult{}, err
		}
	}
	if err := os.Rename(path+".partial", path); err != nil {
		return transferResult{}, err
	}
	return transferResult{Bytes: n, Sha256: sum}, nil
}
