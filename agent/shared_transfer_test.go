// The shared-volume path of the archive (shared_transfer.go) on plain directories: written once by
// the source with its sha256, read once into the target's store, the volume's copy gone afterwards —
// also when the checksum does not match or the archive is missing.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSharedVolumeRoundTrip(t *testing.T) {
	shared, store := t.TempDir(), t.TempDir()
	archive := bytes.Repeat([]byte("checkpoint page "), 64<<10)
	sum := sha256.Sum256(archive)
	want := hex.EncodeToString(sum[:])
	dir := filepath.Join(shared, "run-1-0")

	written, err := writeShared(bytes.NewReader(archive), dir, "migbench")
	if err != nil || written.Bytes != int64(len(archive)) || written.Sha256 != want {
		t.Fatalf("writeShared = %+v, %v; want %d bytes, sha256 %s", written, err, len(archive), want)
	}
	info, err := os.Stat(filepath.Join(dir, archiveFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the shared archive: %v, mode %v (want root-only 0600)", err, info)
	}
	if _, err := os.Stat(filepath.Join(dir, archiveFile+".partial")); !os.IsNotExist(err) {
		t.Fatalf("the .partial file is left: %v", err)
	}

	taken, err := takeShared(dir, filepath.Join(store, "run-1-0"), written.Sha256)
	if err != nil || taken != written {
		t.Fatalf("takeShared = %+v, %v; want %+v", taken, err, written)
	}
	got, err := os.ReadFile(filepath.Join(store, "run-1-0", archiveFile))
	if err != nil || !bytes.Equal(got, archive) {
		t.Fatalf("the target's copy differs (%d bytes, %v)", len(got), err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the trial's directory is left on the shared volume: %v", err)
	}
}

func TestSharedVolumeRefusesAnotherArchive(t *testing.T) {
	shared, store := t.TempDir(), t.TempDir()
	dir := filepath.Join(shared, "run-1-1")
	if _, err := writeShared(strings.NewReader("the source's archive"), dir, "migbench"); err != nil {
		t.Fatal(err)
	}
	// The source reported another archive than the one on the volume (a stale or replaced file).
	if _, err := takeShared(dir, filepath.Join(store, "run-1-1"), strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), "the source wrote") {
		t.Fatalf("takeShared accepted another archive: %v", err)
	}
	assertGone(t, dir, filepath.Join(store, "run-1-1", archiveFile))

	// The file changed on the volume after it was written (a corrupt share): its own sha256 no longer matches.
	written, err := writeShared(strings.NewReader("the source's archive"), dir, "migbench")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, archiveFile), []byte("the source's archivX"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := takeShared(dir, filepath.Join(store, "run-1-1"), written.Sha256); err == nil || !strings.Contains(err.Error(), "read from the shared volume has sha256") {
		t.Fatalf("takeShared accepted a corrupt archive: %v", err)
	}
	assertGone(t, dir, filepath.Join(store, "run-1-1", archiveFile), filepath.Join(store, "run-1-1", archiveFile+".partial"))

	// Nothing was shared: a clear error, nothing made.
	if _, err := takeShared(filepath.Join(shared, "run-1-2"), filepath.Join(store, "run-1-2"), ""); err == nil || !strings.Contains(err.Error(), "no archive on the shared volume") {
		t.Fatalf("takeShared without an archive: %v", err)
	}
}

func TestSharedVolumeCleanup(t *testing.T) {
	shared := t.TempDir()
	a := &agent{config: config{NodeName: "node-a", SharedDir: shared}}
	for _, key := range []string{"run-1-0", "run-2-3"} {
		if _, err := writeShared(strings.NewReader("x"), a.config.sharedTrialDir(key), "migbench"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(shared, "..not-a-key"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.removeShared("run-1-0"); err != nil {
		t.Fatal(err)
	}
	assertGone(t, a.config.sharedTrialDir("run-1-0"))
	removed := a.removeSharedLeftovers(leftoverScope{namespace: "migbench"})
	if len(removed) != 1 || !strings.Contains(removed[0], "run-2-3") {
		t.Fatalf("removeSharedLeftovers = %q", removed)
	}
	assertGone(t, a.config.sharedTrialDir("run-2-3"))
	// Only what migbench names (trial keys) is touched on a volume the user may share with others.
	if _, err := os.Stat(filepath.Join(shared, "..not-a-key")); err != nil {
		t.Fatalf("a file that is no trial's was removed: %v", err)
	}
	// An agent without a shared volume refuses the requests and removes nothing.
	none := &agent{config: config{NodeName: "node-b"}}
	if _, err := none.sharedDir(); err == nil || !strings.Contains(err.Error(), "--shared-class") {
		t.Fatalf("sharedDir without a volume: %v", err)
	}
	if none.removeShared("run-1-0") != nil || none.removeSharedLeftovers(leftoverScope{all: true}) != nil {
		t.Fatal("an agent without a shared volume removed something")
	}
}

func assertGone(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is left (%v)", p, err)
		}
	}
}
