// The source container's file changes, put into the new container's root filesystem before CRIU
// restores: CRIU reopens the files its tasks held (Redis's AOF, logs) and refuses files whose size
// differs. The kubelet's archive carries them as rootfs-diff.tar (changed files) and deleted.files
// (a JSON list of removed paths). Written through os.Root, so no entry (`..`, a symlink in the
// image) reaches outside the container's root.
package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func applyRootfsDiff(checkpointDir, rootfs string) error {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return fmt.Errorf("container root %s: %w", rootfs, err)
	}
	defer root.Close()
	if raw, err := os.ReadFile(filepath.Join(checkpointDir, "deleted.files")); err == nil {
		var deleted []string
		if err := json.Unmarshal(raw, &deleted); err != nil {
			return fmt.Errorf("deleted.files: %w", err)
		}
		for _, p := range deleted {
			if err := root.RemoveAll(relative(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("deleted.files: %s: %w", p, err)
			}
		}
	}
	f, err := os.Open(filepath.Join(checkpointDir, "rootfs-diff.tar"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("rootfs-diff.tar: %w", err)
		}
		if err := writeEntry(root, h, tr); err != nil {
			return fmt.Errorf("rootfs-diff.tar: %s: %w", h.Name, err)
		}
	}
}

func relative(p string) string {
	p = filepath.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

func writeEntry(root *os.Root, h *tar.Header, body io.Reader) error {
	name := relative(h.Name)
	if name == "." {
		return nil
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	mode := fs.FileMode(h.Mode) & fs.ModePerm
	switch h.Typeflag {
	case tar.TypeDir:
		if err := root.MkdirAll(name, mode); err != nil {
			return err
		}
	case tar.TypeReg:
		_ = root.Remove(name)
		f, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		_ = root.Remove(name)
		return root.Symlink(h.Linkname, name)
	case tar.TypeLink:
		_ = root.Remove(name)
		return root.Link(relative(h.Linkname), name)
	default:
		return nil // devices, fifos: not in a container's diff that CRIU needs
	}
	if err := root.Lchown(name, h.Uid, h.Gid); err != nil {
		return err
	}
	return root.Chmod(name, mode)
}
