// The source container's file changes, put into the new container's root filesystem before CRIU
// restores: CRIU reopens the files its tasks held (Redis's AOF, logs) and refuses files whose size
// differs. The kubelet's archive carries them as rootfs-diff.tar — containerd's diff of the
// container's writable layer, an OCI layer (gzip-compressed as containerd stores it; whiteouts
// `.wh.<name>` for removed files, `.wh..wh..opq` for a directory replaced whole) — and, from other
// runtimes, deleted.files (a JSON list of removed paths). Applied as containerd applies it for its
// own restore (core/runtime/v2/shim.go: DecompressStream + archive.Apply). Written through os.Root,
// so no entry (`..`, a symlink in the image) reaches outside the container's root.
package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
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
	layer, err := decompressed(f)
	if err != nil {
		return fmt.Errorf("rootfs-diff.tar: %w", err)
	}
	tr := tar.NewReader(layer)
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

// decompressed reads a layer as stored: plain tar or gzip (zstd is refused by name).
func decompressed(f *os.File) (io.Reader, error) {
	r := bufio.NewReader(f)
	magic, _ := r.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return gzip.NewReader(r)
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		return nil, errors.New("zstd-compressed: not supported by migbench-runc")
	}
	return r, nil
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
	// Whiteouts (OCI image layer spec): the named file removed, or the directory's old content.
	if base := filepath.Base(name); strings.HasPrefix(base, ".wh.") {
		dir := filepath.Dir(name)
		if base == ".wh..wh..opq" {
			entries, _ := fs.ReadDir(root.FS(), dir)
			for _, e := range entries {
				if err := root.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
			return nil
		}
		return root.RemoveAll(filepath.Join(dir, strings.TrimPrefix(base, ".wh.")))
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
