// The kubelet archive unpacked for the runtime handler: its members where the wrapper reads them, nothing outside.
package main

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"
)

func TestUnpackArchive(t *testing.T) {
	src := filepath.Join(t.TempDir(), "checkpoint.tar")
	f, _ := os.Create(src)
	tw := tar.NewWriter(f)
	for name, body := range map[string]string{"checkpoint/pages-1.img": "pages", "rootfs-diff.tar": "diff", "../../outside": "no"} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	_ = f.Close()
	parent := t.TempDir()
	dir := filepath.Join(parent, "restore", "k1")
	_ = os.MkdirAll(dir, 0o700)
	if err := unpackArchive(src, dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "checkpoint", "pages-1.img")); string(b) != "pages" {
		t.Fatalf("checkpoint/pages-1.img: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "outside")); err != nil {
		t.Fatalf("`../../outside` lands inside the directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(parent, "outside")); err == nil {
		t.Fatal("an entry escaped the directory")
	}
}
